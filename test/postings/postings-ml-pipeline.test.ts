/**
 * The postings pipeline end to end on real data, embedded defaults: Model A trained on Glassdoor 2020, then the 2026 HN
 * postings with their `classified.json` ground truth run through `driftline run postings --input … --until-idle`.
 * Every ML operator lands its rows, and the rows agree with each other.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../models/registry/registry.ts';
import { dataDir, dataFile } from '../data-dir.ts';
import { driftlineOk } from '../e2e/cli.ts';
import { registerTrainedOnce } from '../shared-models.ts';

const dir = mkdtempSync(join(tmpdir(), 'driftline-postings-ml-'));
// embedded defaults: the test's global setup exports KAFKA_BROKERS and CLICKHOUSE_URL, which this run must not use
const env = {
  DRIFTLINE_HOME: join(dir, 'home'),
  DRIFTLINE_MODELS_MANIFEST: join(dir, 'models.json'),
  DRIFTLINE_DATA_DIR: dataDir(),
  KAFKA_BROKERS: '',
  CLICKHOUSE_URL: '',
};
let rows: (sql: string) => Promise<Record<string, unknown>[]>;
let heldOutAccuracy: number;

beforeAll(async () => {
  writeFileSync(env.DRIFTLINE_MODELS_MANIFEST, '{"models":[]}');
  // Model A as `driftline models train postings` registers it, trained once per test run (test/shared-models.ts).
  await registerTrainedOnce('postings', dataDir(), {
    manifestPath: env.DRIFTLINE_MODELS_MANIFEST,
    home: env.DRIFTLINE_HOME,
  });
  heldOutAccuracy = new ModelRegistry({ manifestPath: env.DRIFTLINE_MODELS_MANIFEST, home: env.DRIFTLINE_HOME }).get(
    'postings-a',
  ).metrics.accuracy!;
  await driftlineOk(['run', 'postings', '--input', dataFile('postings', 'hn-hiring-2026'), '--until-idle'], env);
  const db = await (
    await DuckDBInstance.create(join(env.DRIFTLINE_HOME, 'warehouse.duckdb'), { access_mode: 'READ_ONLY' })
  ).connect();
  rows = async (sql) => (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}, 300_000);

const num = (v: unknown) => Number(v);

describe('postings pipeline with Models A and B (real 2026 HN postings)', () => {
  it('scores every posting with A and B', async () => {
    const [counts] = await rows(
      `select count(*) postings, (select count(distinct record_id) from predictions where model_id = 'postings-a') ` +
        `a, (select count(distinct record_id) from predictions where model_id = 'postings-b') b from postings`,
    );
    expect(num(counts!.postings)).toBe(1720);
    expect(num(counts!.a)).toBe(1720);
    expect(num(counts!.b)).toBe(1720);
  });

  it('queues at most the budget per window, only predictions inside the band', async () => {
    const perWindow = await rows(
      `select window_start, count(*) n, min(top_probability) lo, max(top_probability) hi from label_queue group by ` +
        `window_start`,
    );
    expect(perWindow.length).toBeGreaterThan(2);
    for (const w of perWindow) {
      expect(num(w.n)).toBeLessThanOrEqual(20);
      expect(num(w.lo)).toBeGreaterThanOrEqual(0.4);
      expect(num(w.hi)).toBeLessThanOrEqual(0.7);
    }
  });

  it("finds the 2026 vocabulary drifted from A's training data; pauses pseudo-labelling where it drifted", async () => {
    const keywords = await rows(`select window_start, drifted from drift_metrics where feature = 'keywords'`);
    expect(keywords.length).toBeGreaterThan(2);
    expect(keywords.every((k) => num(k.drifted) === 1)).toBe(true);
    const emerging = (await rows(`select distinct term from keyword_skew where direction = 'emerging'`)).map(
      (r) => r.term,
    );
    expect(emerging).toContain('llm');
    const verdicts = await rows(
      `select d.window_start, d.drifted, w.paused from drift_metrics d join pseudo_label_windows w on ` +
        `w.window_start = d.window_start where d.feature = 'dataset' and d.test = 'share'`,
    );
    expect(verdicts.length).toBeGreaterThan(2);
    for (const v of verdicts) expect(num(v.paused)).toBe(num(v.drifted));
  });

  it('joins the late ground truth: Model A is measurably worse on 2026 postings than on its held-out set', async () => {
    const [totals] = await rows(
      `select sum(labeled) labeled, sum(correct_a) correct_a, sum(correct_b) correct_b from model_comparison`,
    );
    const [truth] = await rows(`select count(*) n from labels l join postings p on p.id = l.record_id`);
    expect(num(totals!.labeled)).toBe(num(truth!.n));
    const accuracyA = num(totals!.correct_a) / num(totals!.labeled);
    console.log(
      `Model A: held-out ${heldOutAccuracy.toFixed(4)}, 2026 HN ${accuracyA.toFixed(4)} on ${totals!.labeled} ` +
        `labelled postings; B ${(num(totals!.correct_b) / num(totals!.labeled)).toFixed(4)}`,
    );
    expect(accuracyA).toBeLessThan(heldOutAccuracy - 0.05);
  });

  it('fine-tunes Model B from the labels, with lineage back to A', async () => {
    const runs = await rows(`select * from training_runs order by finished_at`);
    expect(runs.length).toBeGreaterThan(0);
    const registry = new ModelRegistry({ manifestPath: env.DRIFTLINE_MODELS_MANIFEST, home: env.DRIFTLINE_HOME });
    const versions = registry.list('postings-b');
    expect(versions[0]!.parent).toBe('postings-a@v1');
    for (const v of versions.slice(1)) expect(v.parent).toMatch(/^postings-b@v\d+$/);
    for (const r of runs) expect(num(r.human_examples)).toBeGreaterThan(0);
    // A live run swaps B in when a fine-tune finishes (wall clock) and records when the swap took effect: the event
    // time of the first posting the new version scored.
    const scoredBy = await rows(
      `select p.model_version v, list(distinct po.posted_at) times from predictions p join postings po on po.id = ` +
        `p.record_id where p.model_id = 'postings-b' and p.model_version <> 'v1' group by 1`,
    );
    for (const s of scoredBy) {
      const from = registry.get('postings-b', String(s.v)).in_force_from;
      expect(from, `in_force_from of ${s.v}`).toBeDefined();
      expect((s.times as unknown[]).map(num)).toContain(Date.parse(from!));
    }
    console.log(
      runs
        .map(
          (r) =>
            `${r.candidate_version}: candidate ${num(r.candidate_accuracy).toFixed(4)} vs ` +
            `current ${num(r.current_accuracy).toFixed(4)} vs A ${num(r.model_a_accuracy).toFixed(4)} ` +
            `→ ${num(r.promoted) ? 'promoted' : 'kept'}`,
        )
        .join('\n'),
    );
  });
});
