/**
 * `driftline demo` (what `npm start` runs), the real process on embedded defaults with no data directory, in a fresh
 * DRIFTLINE_HOME: generated fixtures → models trained → the three pipelines replayed → bench --quick → report. Then
 * the same command again, without the benchmark and the report (DRIFTLINE_DEMO_SKIP: the first run checks those):
 * the trained models are reused, not retrained, and the replays land the same rows again. The demo keeps to its own
 * home (DRIFTLINE_HOME/demo): a run on real data afterwards, in the same DRIFTLINE_HOME, meets none of its models or
 * rows.
 */
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { XSS_JOB_ID, XSS_TITLE } from '../../cli/demo/fixtures/postings.ts';
import type { Manifest } from '../../models/registry/registry.ts';
import { dataFile } from '../data-dir.ts';
import { driftlineOk } from '../e2e/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'driftline-demo-'));
// The demo's own home, and its manifest there: DRIFTLINE_MODELS_MANIFEST names the user's, which the demo must not use.
const demoHome = join(dir, 'home', 'demo');
const manifest = join(demoHome, 'models', 'manifest.json');
// No data directory and no services: the global setup exports KAFKA_BROKERS and CLICKHOUSE_URL, which the demo must not
// use.
const env = {
  DRIFTLINE_HOME: join(dir, 'home'),
  DRIFTLINE_MODELS_MANIFEST: join(dir, 'user-models.json'),
  DRIFTLINE_DATA_DIR: '',
  KAFKA_BROKERS: '',
  CLICKHOUSE_URL: '',
};
const num = (v: unknown) => Number(v);

interface Run {
  output: string;
  seconds: number;
  /** Seconds of each step, by name, from the progress lines (`[2/7] models: … (12.3 s)`). */
  steps: Record<string, number>;
  manifest: Manifest;
}

async function demo(extraEnv: Record<string, string> = {}): Promise<Run> {
  const started = performance.now();
  const output = await driftlineOk(['demo'], { ...env, ...extraEnv });
  const steps = Object.fromEntries(
    [...output.matchAll(/^\[\d\/7\] ([^:\n]+): .*\((\d+\.\d) s\)$/gm)].map((m) => [m[1]!, Number(m[2])]),
  );
  return {
    output,
    seconds: (performance.now() - started) / 1000,
    steps,
    manifest: JSON.parse(readFileSync(manifest, 'utf8')) as Manifest,
  };
}

let first: Run;
let second: Run;
let rows: (sql: string) => Promise<Record<string, unknown>[]>;

beforeAll(async () => {
  first = await demo();
  second = await demo({ DRIFTLINE_DEMO_SKIP: 'bench,report' });
  console.log(
    `demo: first run ${first.seconds.toFixed(0)} s (${JSON.stringify(first.steps)}), ` +
      `second ${second.seconds.toFixed(0)} s (${JSON.stringify(second.steps)})`,
  );
  const db = await (
    await DuckDBInstance.create(join(demoHome, 'warehouse.duckdb'), { access_mode: 'READ_ONLY' })
  ).connect();
  rows = async (sql) => (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}, 1_200_000);

/** The run ids of the second demo's replays, from its progress lines. */
const runIds = (run: Run) =>
  Object.fromEntries([...run.output.matchAll(/replay (\w+): .* run (demo-\S+)\s/g)].map((m) => [m[1]!, m[2]!]));

describe('driftline demo on generated fixtures', () => {
  it('goes through every step and prints the summary', () => {
    expect(first.output).toMatch(/\[1\/7\] prepare data: no data directory given .* generated fixtures/);
    for (const step of [
      'prepare data',
      'models',
      'replay postings',
      'replay frames',
      'replay events',
      'bench --quick',
      'report build',
    ])
      expect(Object.keys(first.steps)).toContain(step);
    expect(first.output).toMatch(/^driftline demo: done in .*, on generated fixtures/m);
    for (const line of [
      'Records',
      'Predictions',
      'Model A',
      'A vs B',
      'Model B',
      'Drift alerts',
      'Bench',
      'Report',
      'Query',
      'Steps',
    ])
      expect(first.output).toMatch(new RegExp(`^  ${line} +\\S`, 'm'));
    expect(first.output).toMatch(/Model A +held-out accuracy 0\.9\d\d/);
    expect(first.output).toMatch(/Report +.*report — preview: .*driftline report preview/);
  });

  it('trains Model A and the frame CNN with their int8 variants the first time, reuses them the second time', () => {
    expect(first.output).toMatch(
      new RegExp(
        'models: trained postings-a@v1.*int8 postings-a@v2 quantized; ' +
          'trained frames-cnn@v1.*int8 frames-cnn@v2 quantized',
      ),
    );
    expect(second.output).toMatch(
      /models: reused postings-a@v1.*int8 postings-a@v2 reused; reused frames-cnn@v1.*int8 frames-cnn@v2 reused/,
    );
    expect(second.output).not.toMatch(/training (postings|frames) on/);
    expect(second.output).toMatch(/bench --quick: skipped \(DRIFTLINE_DEMO_SKIP\)/);
    const trainedIds = (m: Manifest) =>
      m.models.filter((e) => e.id !== 'postings-b').map((e) => `${e.id}@${e.version}:${e.stage}`);
    expect(trainedIds(second.manifest)).toEqual(trainedIds(first.manifest));
    expect(trainedIds(first.manifest)).toEqual([
      'postings-a@v1:production',
      'postings-a@v2:candidate',
      'frames-cnn@v1:production',
      'frames-cnn@v2:candidate',
    ]);
    expect(second.steps.models!).toBeLessThan(first.steps.models! / 4);
    expect(second.seconds).toBeLessThan(first.seconds);
  });

  it('lands postings, frames and events with predictions by Model A, B and the frame model (fp32, int8)', async () => {
    const ids = runIds(second);
    const [counts] = await rows(
      `select (select count(*) from postings) postings, (select count(*) from frames) frames, (select count(*) ` +
        `from events) events`,
    );
    expect(num(counts!.postings)).toBeGreaterThan(2000);
    expect(num(counts!.frames)).toBe(600);
    expect(num(counts!.events)).toBeGreaterThan(8000);
    const predictions = await rows(
      `select model_id, count(distinct record_id) n from predictions group by model_id order by model_id`,
    );
    expect(predictions.map((p) => [p.model_id, num(p.n)])).toEqual([
      ['frames-cnn', 600],
      ['postings-a', num(counts!.postings)],
      ['postings-b', num(counts!.postings)],
    ]);
    const [xss] = await rows(`select title from postings where id = '${XSS_JOB_ID}'`);
    expect(xss!.title).toBe(XSS_TITLE);
    const runs = await rows(
      `select pipeline, mode, records_in, dead_letters from pipeline_runs where run_id in ('${ids.postings}', ` +
        `'${ids.frames}', '${ids.events}') order by pipeline`,
    );
    expect(runs.map((r) => [r.pipeline, r.mode, num(r.dead_letters)])).toEqual([
      ['events', 'replay', 4],
      ['frames', 'replay', 0],
      ['postings', 'replay', 2],
    ]);
    const reasons = await rows(`select stage, error from dead_letters`);
    expect(reasons.filter((r) => /missing id|'text' must be a string/.test(String(r.error)))).toHaveLength(2);
  });

  it('raises drift alerts in each pipeline: 2026 postings, frames after the lighting fault, anomalies', async () => {
    const ids = runIds(second);
    const alerts = await rows(
      `select pipeline, min(window_start) AS first_start from drift_alerts where run_id in ('${ids.postings}', ` +
        `'${ids.frames}', '${ids.events}') group by pipeline order by pipeline`,
    );
    expect(alerts.map((a) => a.pipeline)).toEqual(['events', 'frames', 'postings']);
    const keywords = await rows(
      `select window_start, drifted from drift_metrics where run_id = '${ids.postings}' and feature = 'keywords'`,
    );
    const drifted2026 = keywords.filter((k) => num(k.window_start) >= Date.UTC(2025, 11, 1) && num(k.drifted) === 1);
    expect(drifted2026.length).toBeGreaterThanOrEqual(3);
    const shiftAt = Number(/lighting fault from frame (\d+)/.exec(second.output)![1]);
    const cameraStart = Date.UTC(2026, 0, 5, 6);
    expect(num(alerts.find((a) => a.pipeline === 'frames')!.first_start)).toBeGreaterThanOrEqual(
      cameraStart + Math.floor(shiftAt / 100) * 100 * 1000,
    );
    const scores = await rows(
      `select series, recall from anomaly_scores where run_id = '${ids.events}' order by series`,
    );
    expect(scores.map((s) => [s.series, num(s.recall)])).toEqual([
      ['boiler_temperature', 1],
      ['fan_vibration', 1],
    ]);
  });

  it('fine-tunes Model B on the 2026 labels and promotes it over Model A', async () => {
    const runs = await rows(
      `select run_id, promoted, candidate_accuracy, model_a_accuracy from training_runs where run_id = ` +
        `'${runIds(first).postings}'`,
    );
    const promoted = runs.filter((r) => num(r.promoted) === 1);
    expect(promoted.length).toBeGreaterThanOrEqual(1);
    for (const r of promoted) expect(num(r.candidate_accuracy)).toBeGreaterThan(num(r.model_a_accuracy));
    const [truth] = await rows(
      `select sum(labeled) n from model_comparison where run_id = '${runIds(second).postings}' and labeled > 0`,
    );
    expect(num(truth!.n)).toBeGreaterThan(1500);
  });

  it('shows B ahead of A on the labelled postings scored after its first promotion, as the summary says', async () => {
    const line = new RegExp(
      String.raw`A vs B +Model B (\d\.\d{3}) vs Model A (\d\.\d{3}) \(\+(\d\.\d{3})\) on the ([\d,]+) labelled ` +
        String.raw`postings scored after B's first promotion \(postings-b@(v\d+), in force from (\d{4}-\d\d-\d\d)`,
    ).exec(second.output);
    expect(line, 'the summary line').not.toBeNull();
    const [, b, a, , records, version] = line!;
    expect(Number(b)).toBeGreaterThanOrEqual(Number(a) + 0.1);
    // The same figure, computed here from the warehouse: B's promoted versions of this run, A on the same records.
    const promoted = (
      await rows(
        `select candidate_version v from training_runs where run_id = '${runIds(second).postings}' and promoted = 1`,
      )
    ).map((r) => `'${r.v}'`);
    expect(promoted).toContain(`'${version}'`);
    const [check] = await rows(
      `select count(*) n, avg(case when pa.label = l.label then 1 else 0 end) a,
        avg(case when pb.label = l.label then 1 else 0 end) b
      from predictions pb join predictions pa on pa.record_id = pb.record_id and pa.model_id = 'postings-a'
        join labels l on l.record_id = pb.record_id
      where pb.model_id = 'postings-b' and pb.model_version in (${promoted.join(', ')})`,
    );
    expect(num(check!.n)).toBe(Number(records!.replace(/,/g, '')));
    expect(num(check!.b).toFixed(3)).toBe(b);
    expect(num(check!.a).toFixed(3)).toBe(a);
  });

  it('runs the quick benchmark (energy labelled with its method) and builds the report site', async () => {
    const results = await rows(
      `select distinct model_id, variant, energy_method from bench_results order by model_id, variant`,
    );
    expect(results.map((r) => `${r.model_id} ${r.variant}`)).toEqual(
      expect.arrayContaining(['frames-cnn fp32', 'frames-cnn int8', 'postings-a fp32', 'postings-a int8']),
    );
    expect(results.every((r) => r.energy_method === 'rapl' || r.energy_method === 'estimate')).toBe(true);
    expect(existsSync(join(demoHome, 'report', 'index.html'))).toBe(true);
  });

  it('says which Model A and B versions each run uses, and prints a line per promotion of B', async () => {
    expect(first.output).toMatch(
      new RegExp(
        String.raw`^postings: Model A postings-a@v1 \(production, .*held-out accuracy 0\.9\d\d\); Model ` +
          String.raw`B postings-b(@v\d+ \(production\)|: none yet, starts as a copy of A); manifest `,
        'm',
      ),
    );
    const promotions =
      first.output.match(
        /^postings: promoted Model B postings-b@v\d+ to production: holdout accuracy [01]\.\d{3} vs /gm,
      ) ?? [];
    const [promoted] = await rows(
      `select count(*) n from training_runs where run_id = '${runIds(first).postings}' and promoted = 1`,
    );
    expect(promotions).toHaveLength(num(promoted!.n));
  });

  it('keeps to its own home: a run on real data afterwards uses no fixture model and sees no demo row', async () => {
    expect(first.output).toContain(`models, log, warehouse and report in ${demoHome}`);
    expect(first.output).toMatch(/Query +DRIFTLINE_HOME=\S+demo npx driftline sql/);
    // Real postings: the Bright Data scrape and a Glassdoor export saved under a name of the user's own.
    const input = mkdtempSync(join(tmpdir(), 'driftline-after-demo-'));
    cpSync(dataFile('postings', 'brightdata-linkedin'), join(input, 'brightdata'), { recursive: true });
    copyFileSync(
      dataFile('postings', 'glassdoor-2020', 'software_engineer.csv'),
      join(input, 'my-glassdoor-export.csv'),
    );
    const output = await driftlineOk(['run', 'postings', '--input', input], { ...env, DRIFTLINE_MODELS_MANIFEST: '' });
    expect(output).toContain('postings: no model registered');
    expect(output).not.toMatch(/postings-a@|postings-b@/);
    const db = await (
      await DuckDBInstance.create(join(env.DRIFTLINE_HOME, 'warehouse.duckdb'), { access_mode: 'READ_ONLY' })
    ).connect();
    const read = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    expect((await read(`select distinct mode from pipeline_runs`)).map((r) => r.mode)).toEqual(['run']);
    const bySource = await read(
      `select source, count(*) n, count(label) labelled from postings group by source order by source`,
    );
    // 632 distinct Glassdoor rows, stored without a label (its file name is no longer the project's); 22 Bright Data
    // rows
    expect(bySource.map((r) => [r.source, num(r.n), num(r.labelled)])).toEqual([
      ['brightdata-linkedin', 22, 0],
      ['glassdoor', 632, 0],
    ]);
    expect(await read(`select count(*) n from predictions`)).toEqual([{ n: '0' }]);
  });
});
