/**
 * `driftline report build`: page data from the warehouse, then the static site with Observable Framework.
 *
 * The site source (`reports/src`) is copied to a work folder under DRIFTLINE_HOME with the page data beside it, so the
 * repository is never written to and several homes can build at once. Framework resolves the pages' imports
 * (`@observablehq/plot`, `vega-embed`, …) from `node_modules` (a symlink to the project's), bundling them into the
 * site: the build needs no network, and neither does the site.
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSettings, type Settings } from '../config/settings.ts';
import { exportPageData, PAGES } from './page-data/export.ts';

const reportsDir = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(reportsDir, '..');

/** Sidebar order and titles (the index is the home page). */
export const SITE_PAGES = [
  { name: 'Trade-offs', path: '/trade-offs' },
  { name: 'Drift: Model A vs Model B', path: '/drift' },
  { name: 'Active learning', path: '/active-learning' },
  { name: 'Pipelines', path: '/pipelines' },
  { name: 'Events', path: '/events' },
];

/** Packages the pages import; an import of one left bare in the built site would fail in the browser. */
const BUNDLED = ['@observablehq/plot', '@observablehq/inputs', 'vega-embed', 'vega-lite', 'vega', 'htl'];

export interface BuildReportOptions {
  /** Where the site goes (default `DRIFTLINE_HOME/report`). Emptied first, so it must be a site or not exist. */
  out?: string;
  settings?: Settings;
  log?: (line: string) => void;
}

export interface BuiltReport {
  siteDir: string;
  /** The page data the site was built from (`<page>.json`). */
  dataDir: string;
  pages: string[];
}

export async function buildReport(options: BuildReportOptions = {}): Promise<BuiltReport> {
  const settings = options.settings ?? loadSettings();
  const log = options.log ?? (() => {});
  const siteDir = resolve(options.out ?? join(settings.home, 'report'));
  refuseToOverwrite(siteDir);
  rmSync(siteDir, { recursive: true, force: true }); // Framework clears only outputs inside its working folder
  const work = join(settings.home, 'report-src');
  const src = join(work, 'src');

  // Fresh copy of the pages; Framework's bundle cache (src/.observablehq) is kept between builds.
  mkdirSync(src, { recursive: true });
  for (const entry of readdirSync(src))
    if (entry !== '.observablehq') rmSync(join(src, entry), { recursive: true, force: true });
  cpSync(join(reportsDir, 'src'), src, { recursive: true });
  if (!existsSync(join(work, 'node_modules')))
    symlinkSync(join(projectRoot, 'node_modules'), join(work, 'node_modules'), 'dir');
  writeFileSync(join(src, 'components', 'inputs.css'), inputsStylesheet());

  const dataDir = join(src, 'data');
  const started = Date.now();
  await exportPageData(settings, dataDir, { log });
  log(`page data exported to ${dataDir} in ${Date.now() - started} ms`);

  writeFileSync(join(work, 'observablehq.config.js'), siteConfig(siteDir));
  await runFramework(work, log);
  assertBundled(siteDir);
  return { siteDir, dataDir, pages: PAGES.map((p) => p.name) };
}

function siteConfig(output: string): string {
  const config = {
    title: 'driftline report',
    root: 'src',
    output,
    pages: SITE_PAGES,
    // No web fonts: the default stylesheet list loads Source Serif from Google; the site must work offline.
    globalStylesheets: [],
    preserveExtension: true,
    // An inline icon: otherwise browsers ask the server for /favicon.ico (a 404 in the console).
    head: '<link rel="icon" href="data:,">',
    search: false,
    footer:
      'Built by <code>driftline report build</code> from the warehouse; each page says when and from which run its ' +
      'data was taken.',
  };
  return `export default ${JSON.stringify(config, null, 2)};\n`;
}

/**
 * Inputs' stylesheet (scrolling tables, sticky headers). Framework adds it only for `npm:` imports of Inputs, which
 * would go to a CDN; the pages import Inputs from node_modules and link this copy, namespaced as Framework does.
 */
function inputsStylesheet(): string {
  const css = readFileSync(
    join(projectRoot, 'node_modules', '@observablehq', 'framework', 'dist', 'client', 'stdlib', 'inputs.css'),
    'utf8',
  );
  return css.replace(/\b__ns__\b/g, 'inputs-3a86ea');
}

/** The output folder is emptied by the build: only a previous site (or nothing) may be there. */
function refuseToOverwrite(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new Error(`report output ${dir} is a file`);
  const entries = readdirSync(dir);
  if (entries.length > 0 && !entries.includes('_observablehq'))
    throw new Error(`report output ${dir} is not empty and does not hold a previous report: choose another --out`);
}

function runFramework(work: string, log: (line: string) => void): Promise<void> {
  const bin = join(projectRoot, 'node_modules', '@observablehq', 'framework', 'dist', 'bin', 'observable.js');
  return new Promise((resolveBuild, reject) => {
    // The environment passes through to the Framework build (PATH, HOME, …); no driftline variable is read from it.
    const child = spawn(process.execPath, [bin, 'build'], {
      cwd: work,
      env: { ...process.env, OBSERVABLE_TELEMETRY_DISABLE: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const summary = output
        .split('\n')
        .filter((l) => /^(render|[┌├└])|error|warning/i.test(l) && !/will not be cleared/.test(l));
      for (const line of summary) log(line);
      if (code === 0) resolveBuild();
      else reject(new Error(`observable build exited ${code}:\n${output.slice(-4000)}`));
    });
  });
}

/** Fails when the built site still imports one of the pages' packages by bare name (Framework could not resolve it). */
export function assertBundled(siteDir: string): void {
  const bare = new RegExp(
    `(?:import\\(|from\\s*)["'](${BUNDLED.map((p) => p.replace(/[/.]/g, '\\$&')).join('|')})["']`,
  );
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : /\.(html|js)$/.test(e.name) ? [join(dir, e.name)] : [],
    );
  for (const file of walk(siteDir)) {
    const match = bare.exec(readFileSync(file, 'utf8'));
    if (match)
      throw new Error(`report build: ${file} imports "${match[1]}" unresolved (is tsconfig.json beside node_modules?)`);
  }
}
