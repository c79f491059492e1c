/**
 * The built report site in a real headless Chromium: `driftline report build` from a warehouse prepared with the real
 * pipelines on real data, served by `driftline report preview`. Every page renders its charts (named below), logs no
 * console error, requests nothing outside localhost, and shows scraped XSS payloads as text without running them.
 * Screenshots of each page go to docs/screenshots/<page>.png.
 *
 * DRIFTLINE_TEST_REPORT_HOME=<a DRIFTLINE_HOME> runs the same checks on the site built from that home's warehouse (a
 * copy of it) instead of preparing one, e.g. the demo's (`npm start`; DRIFTLINE_TEST_REPORT_DATA_DIR=<home>/demo/data
 * for its NAB labels); screenshots are then left alone.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAB_WINDOWS_PATH, readNabWindows } from '../../streams/pipelines/nab-labels.ts';
import { driftline, driftlineOk, exitOf } from '../e2e/cli.ts';
import { prepareWarehouse, XSS_FLAG, XSS_TITLE } from './prepare-warehouse.ts';

const SCREENSHOTS = join(process.cwd(), 'docs', 'screenshots');

/**
 * Charts each page must render (`data-chart` names in reports/src). The prepared warehouse has all of them; another
 * site (DRIFTLINE_TEST_REPORT_HOME) has what its page data holds: Trade-offs with a bench run, consumer lag when a run
 * read a log, and its own event series.
 */
function expectedCharts(site?: { bench: boolean; prepared: boolean; dataDir?: string }): Record<string, string[]> {
  const pageData = (page: string) =>
    JSON.parse(readFileSync(join(site!.dataDir!, `${page}.json`), 'utf8')) as Record<string, Record<string, unknown>[]>;
  const lag = !site || site.prepared || pageData('pipelines').runs!.some((r) => r.max_consumer_lag !== null);
  const series =
    !site || site.prepared ? ['nyc_taxi'] : [...new Set(pageData('events').series!.map((p) => String(p.key)))];
  return {
    index: ['table-rows', 'drift-alerts'],
    'trade-offs':
      site?.bench === false
        ? []
        : ['latency-accuracy', 'energy-memory', 'offline-throughput', 'server-rate', 'server-p99', 'results-table'],
    drift: [
      'accuracy',
      'accuracy-windows',
      'a-fails-b-succeeds',
      'feature-drift',
      'dataset-drift',
      'alerts',
      'keywords',
      'training-runs',
    ],
    'active-learning': [
      'queue-size',
      'uncertainty',
      'labels-received',
      'labels-effect',
      'pseudo-labels',
      'queue-items',
    ],
    pipelines: ['throughput', 'latency', ...(lag ? ['consumer-lag'] : []), 'stages'],
    events: [...series.map((key) => `series-${key}`), 'event-drift-tests', 'anomaly-scores'],
  };
}

/**
 * The Drift page's A vs B story as drawn: the headline's answer, B's promotion marked on the accuracy chart with the
 * realized A and B lines apart after it, and postings where A's class is wrong and B's right.
 */
async function expectModelBStory(tab: Page): Promise<void> {
  expect(await tab.textContent('[data-headline]')).toMatch(
    new RegExp(
      String.raw`^After B's first promotion \(v\d+, in force from \d{4}-\d\d-\d\d\), Model B is ` +
        String.raw`right on \d+\.\d % of [\d,]+ labelled postings, Model A on \d+\.\d % of the same\.$`,
    ),
  );

  const drawn = await tab.$eval('[data-chart="accuracy"]', (el) => {
    // Plot draws each line as one path (M x,y L x,y …) in a group named by the mark's aria-description.
    const points = (description: string) =>
      [...el.querySelectorAll(`g[aria-description="${description}"] path`)].flatMap((path) =>
        [...(path.getAttribute('d') ?? '').matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => ({
          x: Number(m[1]),
          y: Number(m[2]),
        })),
      );
    const promotions = [...el.querySelectorAll('g[aria-description="promotion"] line')].map((line) =>
      Number(line.getAttribute('x1')),
    );
    return { a: points('realized accuracy A'), b: points('realized accuracy B'), promotions };
  });
  expect(drawn.promotions.length).toBeGreaterThan(0);
  // Both lines drawn with some length inside the chart: neither hidden behind the other nor squeezed to a point.
  for (const line of [drawn.a, drawn.b]) {
    expect(line.length).toBeGreaterThan(1);
    expect(Math.max(...line.map((p) => p.x)) - Math.min(...line.map((p) => p.x))).toBeGreaterThan(50);
  }
  expect(await tab.textContent('[data-answer]')).toMatch(
    /^(Yes, B overtook A in the window of \d{4}-\d\d-\d\d|No, B has not overtaken A|No labelled windows yet)/,
  );
  const first = Math.min(...drawn.promotions);
  const [a, b] = [drawn.a.filter((p) => p.x > first), drawn.b.filter((p) => p.x > first)];
  expect(a.length).toBeGreaterThan(0);
  expect(b.map((p) => p.x)).toEqual(a.map((p) => p.x));
  expect(
    Math.max(...a.map((p, i) => Math.abs(p.y - b[i]!.y))),
    'A and B drawn apart after the promotion (px)',
  ).toBeGreaterThan(5);

  // Cells: record, posting, truth, A's class, B's class (each cell's first line).
  const rows = await tab.$$eval('[data-chart="a-fails-b-succeeds"] tbody tr', (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.firstChild?.textContent?.trim() ?? '')),
  );
  expect(rows.length).toBeGreaterThan(0);
  for (const [record, , truth, aSaid, bSaid] of rows) {
    expect(record).toMatch(/\S/);
    expect(['software engineering', 'data science']).toContain(truth);
    expect(aSaid, `record ${record}`).not.toBe(truth);
    expect(bSaid, `record ${record}`).toBe(truth);
  }
  expect(await tab.locator('[data-chart="a-fails-b-succeeds"] [data-b-version]').count()).toBe(rows.length);
}

/** The recommendation follows the latency budget: a budget just under the recommended p99 changes the pick. */
async function expectBudgetChangesRecommendation(tab: Page): Promise<void> {
  const before = (await tab.textContent('[data-recommendation]')) ?? '';
  // The first model's pick and its p99: "deploy <model>: <configuration> (accuracy …, p99 <ms> ms, …)".
  const pickedP99 = Number(
    /^Within p99 ≤ [\d.]+ ms and [\d.]+ MB of model memory, deploy \S+: [^(]*\(accuracy [\d.]+ %, p99 ([\d.]+) ms/.exec(
      before,
    )?.[1],
  );
  expect(pickedP99).toBeGreaterThan(0);
  await tab.fill('[data-budget="latency"] input[type="number"]', String(pickedP99 * 0.9));
  await tab.press('[data-budget="latency"] input[type="number"]', 'Enter');
  await tab.waitForFunction((old) => document.querySelector('[data-recommendation]')?.textContent !== old, before, {
    timeout: 10_000,
  });
  const after = (await tab.textContent('[data-recommendation]')) ?? '';
  expect(after).not.toBe(before);
  expect(after).toContain(`p99 ≤ ${Number((pickedP99 * 0.9).toPrecision(2))} ms`);
}

/** Every table cell shows its whole text: nothing is clipped or runs out of its cell. */
async function expectNoOverflow(tab: Page, page: string): Promise<void> {
  const clipped = await tab.$$eval('td, th', (cells) =>
    cells
      .filter((c) => c.scrollWidth > c.clientWidth + 1 && c.clientWidth > 0)
      .map((c) => (c.textContent ?? '').slice(0, 60)),
  );
  expect(clipped, `${page}: cells whose text overflows`).toEqual([]);
  const wide = await tab.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(wide, `${page}: page wider than the window (px)`).toBeLessThanOrEqual(0);
}

/** p50 ≤ p99 in every row of page data that has both (bench results, runs, stages). */
function expectP50AtMostP99(data: unknown, path = ''): void {
  if (Array.isArray(data)) {
    data.forEach((d, i) => {
      expectP50AtMostP99(d, `${path}[${i}]`);
    });
    return;
  }
  if (data === null || typeof data !== 'object') return;
  const row = data as Record<string, unknown>;
  for (const [p50, p99] of [
    ['p50_ms', 'p99_ms'],
    ['e2e_p50_ms', 'e2e_p99_ms'],
  ]) {
    if (typeof row[p50] === 'number' && typeof row[p99] === 'number')
      expect(row[p50] as number, `${path}.${p50}`).toBeLessThanOrEqual(row[p99] as number);
  }
  for (const [key, value] of Object.entries(row)) expectP50AtMostP99(value, `${path}.${key}`);
}

/** Marks of a chart drawn inside its plot area (not clipped away or squeezed to nothing). */
async function marksInside(tab: Page, name: string, selector: string): Promise<number> {
  return tab.$eval(
    `[data-chart="${name}"]`,
    (el, sel) => {
      const svg = el.querySelector('svg[class^="plot-"]') as SVGSVGElement | null;
      const frame = svg?.getBoundingClientRect();
      if (!frame) return 0;
      return [...el.querySelectorAll(sel)].filter((m) => {
        const b = m.getBoundingClientRect();
        return (
          b.width >= 2 &&
          b.height >= 2 &&
          b.left >= frame.left - 1 &&
          b.right <= frame.right + 1 &&
          b.top >= frame.top - 1 &&
          b.bottom <= frame.bottom + 1
        );
      }).length;
    },
    selector,
  );
}

/**
 * The Drift page's charts share one window axis: every plot of the accuracy, feature-drift and dataset-drift charts
 * draws its window boundaries at the same page x, one slot per window of the page data's axis (equal slots: skipped
 * spans take no room).
 */
async function expectSharedWindowAxis(tab: Page, dataDir: string): Promise<void> {
  const axis = (JSON.parse(readFileSync(join(dataDir, 'drift.json'), 'utf8')) as { window_axis: unknown[] })
    .window_axis;
  expect(axis.length).toBeGreaterThan(1);
  const plots = await tab.$$eval(
    '[data-chart="accuracy"], [data-chart="feature-drift"], [data-chart="dataset-drift"]',
    (charts) =>
      charts.flatMap((chart) =>
        [...chart.querySelectorAll('svg[class^="plot-"]')].map((svg) => ({
          chart: (chart as HTMLElement).dataset.chart,
          xs: [...svg.querySelectorAll('g[aria-description="window boundary"] line')]
            .map((line) => line.getBoundingClientRect().left)
            .sort((a, b) => a - b),
        })),
      ),
  );
  expect(new Set(plots.map((p) => p.chart))).toEqual(new Set(['accuracy', 'feature-drift', 'dataset-drift']));
  const [accuracy] = plots;
  expect(accuracy!.xs).toHaveLength(axis.length + 1);
  const slots = accuracy!.xs.slice(1).map((x, i) => x - accuracy!.xs[i]!);
  expect(Math.max(...slots) - Math.min(...slots), 'equal window slots (px)').toBeLessThan(1.5);
  for (const plot of plots) {
    expect(plot.xs, plot.chart).toHaveLength(accuracy!.xs.length);
    plot.xs.forEach((x, i) => {
      expect(Math.abs(x - accuracy!.xs[i]!), `${plot.chart}: boundary ${i}`).toBeLessThan(1);
    });
  }
}

/** Events: each series' charts shade as many windows as NAB's labels file lists for that series, inside the plot. */
async function expectShadedWindows(tab: Page, dataDir: string): Promise<void> {
  const labels = readNabWindows(join(dataDir, NAB_WINDOWS_PATH));
  const names = await tab.$$eval(
    '[data-chart^="series-"], [data-chart^="anomaly-"]:not([data-chart="anomaly-scores"])',
    (els) => els.map((e) => (e as HTMLElement).dataset.chart!),
  );
  expect(names.filter((n) => n.startsWith('series-')).length).toBeGreaterThan(0);
  for (const name of names) {
    const key = name.replace(/^(series|anomaly)-/, '');
    const expected = labels.get(key)?.length ?? 0;
    expect(expected, `${key}: labelled windows in the labels file`).toBeGreaterThan(0);
    expect(await marksInside(tab, name, 'g[aria-description="labelled window"] rect'), `${name}: shaded windows`).toBe(
      expected,
    );
  }
}

/** The site under test: where its warehouse lives, the environment to build it with, and what it holds. */
interface Site {
  env: Record<string, string>;
  home: string;
  /** Whether the warehouse holds a bench run (the Trade-offs page has its charts). */
  bench: boolean;
  /** Where NAB's labels are (`DRIFTLINE_DATA_DIR`). */
  dataDir: string;
  /** The warehouse this test prepared (real data, the XSS posting the newest): screenshots are taken of it only. */
  prepared: boolean;
}

/** A copy of an existing home's warehouse (the build adds missing columns: the original stays as it was). */
function existingSite(home: string): Site {
  const copy = join(mkdtempSync(join(tmpdir(), 'driftline-report-existing-')), 'home');
  mkdirSync(copy);
  copyFileSync(join(home, 'warehouse.duckdb'), join(copy, 'warehouse.duckdb'));
  const dataDir = process.env.DRIFTLINE_TEST_REPORT_DATA_DIR ?? join(home, 'demo', 'data');
  const env = { DRIFTLINE_HOME: copy, DRIFTLINE_DATA_DIR: dataDir, KAFKA_BROKERS: '', CLICKHOUSE_URL: '' };
  return { env, home: copy, bench: false, dataDir, prepared: false };
}

let site: Site;
let siteDir: string;
let preview: ReturnType<typeof driftline>;
let siteUrl: string;
let browser: Browser;

beforeAll(async () => {
  const started = performance.now();
  const seconds = (from: number) => ((performance.now() - from) / 1000).toFixed(1);
  // The browser starts while the warehouse is prepared.
  const launched = chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const existing = process.env.DRIFTLINE_TEST_REPORT_HOME;
  if (existing) {
    site = existingSite(existing);
  } else {
    // Postings replayed: Model B trains in event time, so the Drift page has promotions and postings scored after them.
    const prepared = await prepareWarehouse({ name: 'site', services: 'embedded', bench: true, postingsVia: 'replay' });
    site = {
      env: prepared.env,
      home: prepared.home,
      bench: prepared.bench,
      dataDir: prepared.env.DRIFTLINE_DATA_DIR!,
      prepared: true,
    };
  }
  const preparedAt = performance.now();
  const out = join(mkdtempSync(join(tmpdir(), 'driftline-site-')), 'site');
  siteDir = (await driftlineOk(['report', 'build', '--out', out], site.env)).trim().split('\n').at(-1)!;
  if (existing)
    site.bench =
      (
        JSON.parse(readFileSync(join(site.home, 'report-src', 'src', 'data', 'trade-offs.json'), 'utf8')) as {
          results: unknown[];
        }
      ).results.length > 0;
  const builtAt = performance.now();
  preview = driftline(['report', 'preview', '--dir', siteDir, '--port', '0'], site.env);
  // Up to a minute: on a loaded 2-core machine the CLI alone can take several seconds to start.
  for (let i = 0; i < 600 && !siteUrl && preview.exitCode === null; i++) {
    siteUrl = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(preview.output())?.[1] ?? '';
    if (!siteUrl) await new Promise((r) => setTimeout(r, 100));
  }
  if (!siteUrl) throw new Error(`report preview did not start:\n${preview.output()}`);
  browser = await launched;
  mkdirSync(SCREENSHOTS, { recursive: true });
  console.log(
    `report site: warehouse ${existing ? `copied from ${existing}` : 'prepared'} ` +
      `in ${((preparedAt - started) / 1000).toFixed(1)} s, built in ${((builtAt - preparedAt) / 1000).toFixed(1)} ` +
      `s, served and browser ready after ${seconds(builtAt)} s more`,
  );
}, 1_800_000);

afterAll(async () => {
  await browser?.close();
  if (preview && preview.exitCode === null) {
    preview.kill('SIGINT');
    await exitOf(preview);
  }
});

describe('report site', () => {
  it('has p50 ≤ p99 in every page data row that carries both', () => {
    const dataDir = join(site.home, 'report-src', 'src', 'data');
    for (const file of readdirSync(dataDir).filter((f) => f.endsWith('.json')))
      expectP50AtMostP99(JSON.parse(readFileSync(join(dataDir, file), 'utf8')), file);
  });

  it('is built to the given folder with every page, and bundles the chart libraries (no bare imports left)', () => {
    const files = readdirSync(siteDir, { recursive: true }).map(String);
    for (const page of Object.keys(expectedCharts())) expect(files).toContain(`${page}.html`);
    const code = files.filter((f) => /\.(html|js)$/.test(f)).map((f) => readFileSync(join(siteDir, f), 'utf8'));
    expect(code.filter((c) => /import\(\s*["']vega-embed["']\s*\)|from\s*["']vega-embed["']/.test(c))).toEqual([]);
    expect(code.filter((c) => /from\s*["'](@observablehq\/plot|@observablehq\/inputs|htl)["']/.test(c))).toEqual([]);
    expect(files.some((f) => f.includes('vega-embed@'))).toBe(true);
  });

  for (const page of Object.keys(expectedCharts())) {
    it(`${page}: renders its charts from localhost only, without console errors; XSS payloads stay text`, async () => {
      const expected = expectedCharts({ ...site, dataDir: join(site.home, 'report-src', 'src', 'data') })[page]!;
      const tab = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const requests: string[] = [];
      const errors: string[] = [];
      const dialogs: string[] = [];
      tab.on('request', (r) => requests.push(r.url()));
      tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      tab.on('pageerror', (e) => errors.push(e.message));
      tab.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      try {
        await tab.goto(`${siteUrl}${page}.html`, { waitUntil: 'networkidle' });
        for (const name of expected) await tab.waitForSelector(`[data-chart="${name}"]`, { timeout: 30_000 });

        for (const name of expected) {
          const rendered = await tab.$eval(`[data-chart="${name}"]`, (el) => {
            const box = el.getBoundingClientRect();
            const marks = el.querySelectorAll('svg path, svg circle, svg rect, svg line, svg text, canvas').length;
            return {
              width: box.width,
              height: box.height,
              graphics: el.querySelectorAll('svg, canvas, table').length,
              marks,
              rows: el.querySelectorAll('tbody tr').length,
            };
          });
          expect(rendered.graphics, `${page}/${name}`).toBeGreaterThan(0);
          expect(rendered.width * rendered.height, `${page}/${name}`).toBeGreaterThan(0);
          // A chart draws marks (axes alone are a few); a table (Inputs.table) has rows.
          expect(rendered.rows > 0 || rendered.marks > 10, `${page}/${name}: ${JSON.stringify(rendered)}`).toBe(true);
        }
        if (page === 'trade-offs' && !site.bench)
          expect(await tab.textContent('[data-empty="bench"]')).toContain('driftline bench --quick');
        if (page === 'trade-offs' && site.bench)
          expect(await tab.textContent('[data-energy-method]')).toMatch(/Energy method: (rapl|estimate)/);

        if (page === 'drift') await expectModelBStory(tab);
        if (page === 'drift') await expectSharedWindowAxis(tab, join(site.home, 'report-src', 'src', 'data'));
        if (page === 'events') await expectShadedWindows(tab, site.dataDir);
        if (page === 'active-learning')
          expect(await marksInside(tab, 'queue-size', 'g[aria-description="queued"] rect')).toBeGreaterThan(0);
        if (page === 'pipelines') expect(await tab.locator('[data-health]').count()).toBeGreaterThanOrEqual(2);
        if (page === 'index')
          expect(await tab.textContent('[data-headline]')).toMatch(
            /(Everything looks fine|needs? a look)\. Last runs: /,
          );
        await expectNoOverflow(tab, page);

        // Every page says when and from which warehouse and runs its data was taken.
        const meta = await tab.textContent('[data-page-meta]');
        expect(meta).toMatch(/Data taken \d{4}-\d\d-\d\dT.* from the duckdb warehouse/);
        expect(await tab.locator('.observablehq--error').count()).toBe(0);

        // Untrusted scraped text: the payload is shown literally and nothing it carries ran.
        if (page === 'index' && site.prepared) {
          // The XSS posting's role is read from its text; its title (the company) is shown beside it, as text.
          const companies = await tab.$$eval('[data-list="latest-postings"] .company', (els) =>
            els.map((e) => e.textContent ?? ''),
          );
          expect(companies).toContain(XSS_TITLE);
          expect(await tab.locator('[data-list] img, [data-list] script').count()).toBe(0);
        }
        // The prepared payloads set XSS_FLAG, the demo fixtures' `__xss`.
        for (const flag of [XSS_FLAG, '__xss'])
          expect(await tab.evaluate((f) => (window as unknown as Record<string, unknown>)[f], flag)).toBeUndefined();
        expect(dialogs).toEqual([]);

        expect(errors).toEqual([]);
        expect(requests.length).toBeGreaterThan(0);
        expect(requests.filter((url) => !url.startsWith(siteUrl) && !url.startsWith('data:'))).toEqual([]);
        // Screenshot before the budget changes: the page as it opens.
        if (site.prepared) await tab.screenshot({ path: join(SCREENSHOTS, `${page}.png`), fullPage: true });
        if (page === 'trade-offs' && site.bench) await expectBudgetChangesRecommendation(tab);
      } finally {
        await tab.close();
      }
    });
  }
});
