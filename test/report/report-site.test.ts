/**
 * The built report site in a real headless Chromium: `driftline report build` from a warehouse prepared with the real
 * pipelines on real data, served by `driftline report preview`. Every page renders its charts (named below), logs no
 * console error, requests nothing outside localhost, and shows scraped XSS payloads as text without running them.
 * Screenshots of each page go to docs/screenshots/<page>.png.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftline, driftlineOk, exitOf } from '../e2e/cli.ts';
import { prepareWarehouse, type PreparedWarehouse, XSS_FLAG, XSS_TITLE } from './prepare-warehouse.ts';

const SCREENSHOTS = join(process.cwd(), 'docs', 'screenshots');

/** Charts each page must render from the prepared warehouse (`data-chart` names in reports/src). */
function expectedCharts(bench: boolean): Record<string, string[]> {
  return {
    index: ['table-rows', 'drift-alerts'],
    'trade-offs': bench ? ['latency-accuracy', 'energy-memory', 'offline-throughput', 'server-rate', 'results-table'] : [],
    drift: ['accuracy', 'accuracy-windows', 'a-fails-b-succeeds', 'feature-drift', 'dataset-drift', 'alerts', 'keywords', 'training-runs'],
    'active-learning': ['queue-size', 'uncertainty', 'labels-received', 'labels-effect', 'pseudo-labels'],
    pipelines: ['throughput', 'latency', 'consumer-lag', 'stages'],
    events: ['series-nyc_taxi', 'event-drift-tests', 'anomaly-scores'],
  };
}

/**
 * The Drift page's A vs B story as drawn: the headline's answer, B's promotion marked on the accuracy chart with the
 * realized A and B lines apart after it, and postings where A's class is wrong and B's right.
 */
async function expectModelBStory(tab: Page): Promise<void> {
  expect(await tab.textContent('[data-headline]')).toMatch(/^After B's first promotion \(v\d+, in force from \d{4}-\d\d-\d\d\), Model B is right on \d+\.\d % of [\d,]+ labelled postings, Model A on \d+\.\d % of the same\.$/);

  const drawn = await tab.$eval('[data-chart="accuracy"]', (el) => {
    // Plot draws each line as one path (M x,y L x,y …) in a group named by the mark's aria-description.
    const points = (description: string) =>
      [...el.querySelectorAll(`g[aria-description="${description}"] path`)].flatMap((path) => [...(path.getAttribute('d') ?? '').matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) })));
    const promotions = [...el.querySelectorAll('g[aria-description="promotion"] line')].map((line) => Number(line.getAttribute('x1')));
    return { a: points('realized accuracy A'), b: points('realized accuracy B'), promotions };
  });
  expect(drawn.promotions.length).toBeGreaterThan(0);
  const first = Math.min(...drawn.promotions);
  const [a, b] = [drawn.a.filter((p) => p.x > first), drawn.b.filter((p) => p.x > first)];
  expect(a.length).toBeGreaterThan(0);
  expect(b.map((p) => p.x)).toEqual(a.map((p) => p.x));
  expect(Math.max(...a.map((p, i) => Math.abs(p.y - b[i]!.y))), 'A and B drawn apart after the promotion (px)').toBeGreaterThan(5);

  // Cells: record, posting, truth, A's class, B's class (each cell's first line).
  const rows = await tab.$$eval('[data-chart="a-fails-b-succeeds"] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.firstChild?.textContent?.trim() ?? '')));
  expect(rows.length).toBeGreaterThan(0);
  for (const [record, , truth, aSaid, bSaid] of rows) {
    expect(record).toMatch(/\S/);
    expect(['software engineering', 'data science']).toContain(truth);
    expect(aSaid, `record ${record}`).not.toBe(truth);
    expect(bSaid, `record ${record}`).toBe(truth);
  }
  expect(await tab.locator('[data-chart="a-fails-b-succeeds"] [data-b-version]').count()).toBe(rows.length);
}

let warehouse: PreparedWarehouse;
let siteDir: string;
let preview: ReturnType<typeof driftline>;
let siteUrl: string;
let browser: Browser;

beforeAll(async () => {
  // Postings replayed: Model B trains in event time, so the Drift page has promotions and postings scored after them.
  warehouse = await prepareWarehouse({ name: 'site', services: 'embedded', bench: true, postingsVia: 'replay' });
  const out = join(mkdtempSync(join(tmpdir(), 'driftline-site-')), 'site');
  siteDir = (await driftlineOk(['report', 'build', '--out', out], warehouse.env)).trim().split('\n').at(-1)!;
  preview = driftline(['report', 'preview', '--dir', siteDir, '--port', '0'], warehouse.env);
  for (let i = 0; i < 100 && !siteUrl; i++) {
    siteUrl = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(preview.output())?.[1] ?? '';
    if (!siteUrl) await new Promise((r) => setTimeout(r, 100));
  }
  if (!siteUrl) throw new Error(`report preview did not start:\n${preview.output()}`);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (preview && preview.exitCode === null) {
    preview.kill('SIGINT');
    await exitOf(preview);
  }
});

describe('report site', () => {
  it('is built to the given folder with every page, and bundles the chart libraries (no bare imports left)', () => {
    const files = readdirSync(siteDir, { recursive: true }).map(String);
    for (const page of Object.keys(expectedCharts(false))) expect(files).toContain(`${page}.html`);
    const code = files.filter((f) => /\.(html|js)$/.test(f)).map((f) => readFileSync(join(siteDir, f), 'utf8'));
    expect(code.filter((c) => /import\(\s*["']vega-embed["']\s*\)|from\s*["']vega-embed["']/.test(c))).toEqual([]);
    expect(code.filter((c) => /from\s*["'](@observablehq\/plot|@observablehq\/inputs|htl)["']/.test(c))).toEqual([]);
    expect(files.some((f) => f.includes('vega-embed@'))).toBe(true);
  });

  for (const page of Object.keys(expectedCharts(true))) {
    it(`${page}: renders its charts from localhost only, without console errors; XSS payloads stay text`, async () => {
      const expected = expectedCharts(warehouse.bench)[page]!;
      const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
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
            return { width: box.width, height: box.height, graphics: el.querySelectorAll('svg, canvas, table').length, marks, rows: el.querySelectorAll('tbody tr').length };
          });
          expect(rendered.graphics, `${page}/${name}`).toBeGreaterThan(0);
          expect(rendered.width * rendered.height, `${page}/${name}`).toBeGreaterThan(0);
          // A chart draws marks (axes alone are a few); a table (Inputs.table) has rows.
          expect(rendered.rows > 0 || rendered.marks > 10, `${page}/${name}: ${JSON.stringify(rendered)}`).toBe(true);
        }
        if (page === 'trade-offs' && !warehouse.bench) expect(await tab.textContent('[data-empty="bench"]')).toContain('driftline bench --quick');
        if (page === 'trade-offs' && warehouse.bench) expect(await tab.textContent('[data-energy-method]')).toMatch(/Energy method: (rapl|estimate)/);

        if (page === 'drift') await expectModelBStory(tab);

        // Every page says when and from which warehouse and runs its data was taken.
        const meta = await tab.textContent('[data-page-meta]');
        expect(meta).toMatch(/Data taken \d{4}-\d\d-\d\dT.* from the duckdb warehouse/);
        expect(await tab.locator('.observablehq--error').count()).toBe(0);

        // Untrusted scraped text: the payload is shown literally and nothing it carries ran.
        if (page === 'index') {
          const titles = await tab.$$eval('[data-list="latest-postings"] .title', (els) => els.map((e) => e.textContent));
          expect(titles).toContain(XSS_TITLE);
          expect(await tab.locator('[data-list] img, [data-list] script').count()).toBe(0);
        }
        expect(await tab.evaluate((flag) => (window as unknown as Record<string, unknown>)[flag], XSS_FLAG)).toBeUndefined();
        expect(dialogs).toEqual([]);

        expect(errors).toEqual([]);
        expect(requests.length).toBeGreaterThan(0);
        expect(requests.filter((url) => !url.startsWith(siteUrl) && !url.startsWith('data:'))).toEqual([]);
        await tab.screenshot({ path: join(SCREENSHOTS, `${page}.png`), fullPage: true });
      } finally {
        await tab.close();
      }
    });
  }
});
