/**
 * The postings pipeline live on Kafka and ClickHouse with its models: Model A trained into a temp registry, the 2026
 * HN postings (and their `classified.json` truth, published as label messages) produced to the input topic, then
 * `driftline run postings --until-idle`. Every ML operator lands its rows in ClickHouse, and the run its
 * `pipeline_runs` row.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse, type Warehouse } from '../../connectors/warehouse/warehouse.ts';
import { dataDir, dataFile } from '../data-dir.ts';
import { uniqueName } from '../kafka/kafka-test-helpers.ts';
import { driftlineOk } from './cli.ts';
import { registerTrainedOnce } from '../shared-models.ts';

const dir = mkdtempSync(join(tmpdir(), 'driftline-postings-live-'));
const database = `driftline_live_${Date.now().toString(36)}`;
const env = {
  DRIFTLINE_TOPIC_PREFIX: `${uniqueName('plm')}.`,
  CLICKHOUSE_DATABASE: database,
  DRIFTLINE_HOME: join(dir, 'home'),
  DRIFTLINE_MODELS_MANIFEST: join(dir, 'models.json'),
  DRIFTLINE_DATA_DIR: dataDir(),
};
let clickhouse: Warehouse;
let runOutput: string;
const rows = (sql: string) => clickhouse.query(sql);
const num = (v: unknown) => Number(v);

beforeAll(async () => {
  expect(process.env.KAFKA_BROKERS, 'the global setup exports the local broker').toBeTruthy();
  expect(process.env.CLICKHOUSE_URL).toBeTruthy();
  clickhouse = await openWarehouse({
    home: env.DRIFTLINE_HOME,
    clickhouseUrl: process.env.CLICKHOUSE_URL,
    clickhouseDatabase: database,
  });
  writeFileSync(env.DRIFTLINE_MODELS_MANIFEST, '{"models":[]}');
  // Model A as `driftline models train postings` registers it, trained once per test run (test/shared-models.ts).
  await registerTrainedOnce('postings', dataDir(), {
    manifestPath: env.DRIFTLINE_MODELS_MANIFEST,
    home: env.DRIFTLINE_HOME,
  });
  await driftlineOk(['produce', 'postings', dataFile('postings', 'hn-hiring-2026')], env);
  runOutput = await driftlineOk(['run', 'postings', '--until-idle'], env);
}, 170_000);

afterAll(async () => {
  await clickhouse?.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
  await clickhouse?.close();
});

describe('postings live on Kafka → ClickHouse with Models A and B', () => {
  it('predicts every posting with A and with B', async () => {
    const [counts] = await rows(
      `SELECT (SELECT uniqExact(id) FROM postings) AS postings,
              (SELECT uniqExact(record_id) FROM predictions WHERE model_id = 'postings-a') AS a,
              (SELECT uniqExact(record_id) FROM predictions WHERE model_id = 'postings-b') AS b,
              (SELECT count() FROM (SELECT id FROM postings FINAL) p LEFT JOIN (SELECT DISTINCT record_id AS id ` +
        `FROM predictions WHERE model_id = 'postings-b') q USING id WHERE q.id = '') AS missing_b`,
    );
    expect(num(counts!.postings)).toBeGreaterThan(1_000);
    expect(num(counts!.a)).toBe(num(counts!.postings));
    expect(num(counts!.b)).toBe(num(counts!.postings));
    const [probabilities] = await rows(
      `SELECT min(arraySum(probabilities)) AS lo, max(arraySum(probabilities)) AS hi, min(confidence) AS c FROM ` +
        `predictions`,
    );
    expect(num(probabilities!.lo)).toBeGreaterThan(0.999);
    expect(num(probabilities!.hi)).toBeLessThan(1.001);
    expect(num(probabilities!.c)).toBeGreaterThanOrEqual(0.5);
  });

  it('queues uncertain postings within band and budget, measures drift, compares A with B on the labels', async () => {
    const queue = await rows(
      `SELECT window_start, count() AS n, min(top_probability) AS lo, max(top_probability) AS hi FROM label_queue ` +
        `FINAL GROUP BY window_start`,
    );
    expect(queue.length).toBeGreaterThan(0);
    for (const w of queue) {
      expect(num(w.n)).toBeLessThanOrEqual(20);
      expect(num(w.lo)).toBeGreaterThanOrEqual(0.4);
      expect(num(w.hi)).toBeLessThanOrEqual(0.7);
    }
    const drift = await rows(`SELECT feature, test, statistic, p_value, drifted FROM drift_metrics FINAL`);
    expect(new Set(drift.map((d) => d.feature))).toContain('keywords');
    for (const d of drift) {
      expect(Number.isFinite(num(d.statistic)), `${d.feature} ${d.test}`).toBe(true);
      if (d.p_value !== null) expect(num(d.p_value)).toBeGreaterThanOrEqual(0);
      expect([0, 1]).toContain(num(d.drifted));
    }
    const comparison = await rows(
      `SELECT records, agreement, labeled, correct_a, correct_b, accuracy_a FROM model_comparison FINAL`,
    );
    expect(comparison.length).toBeGreaterThan(0);
    let labeled = 0;
    for (const c of comparison) {
      expect(num(c.agreement)).toBeGreaterThanOrEqual(0);
      expect(num(c.agreement)).toBeLessThanOrEqual(1);
      expect(num(c.labeled)).toBeLessThanOrEqual(num(c.records));
      expect(num(c.correct_a)).toBeLessThanOrEqual(num(c.labeled));
      expect(num(c.correct_b)).toBeLessThanOrEqual(num(c.labeled));
      labeled += num(c.labeled);
    }
    const [truth] = await rows(
      `SELECT count() AS n FROM (SELECT record_id FROM labels FINAL) l INNER JOIN (SELECT id AS record_id FROM ` +
        `postings FINAL) p USING record_id`,
    );
    expect(num(truth!.n)).toBeGreaterThan(0);
    expect(labeled).toBe(num(truth!.n));
  });

  it('records the run in pipeline_runs: kafka into clickhouse, every record in, latency and lag measured', async () => {
    const runId = /: run (\S+) done/.exec(runOutput)?.[1];
    expect(runId).toBeTruthy();
    const runs = await rows(`SELECT * FROM pipeline_runs FINAL WHERE run_id = '${runId}'`);
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run).toMatchObject({ pipeline: 'postings', mode: 'run', transport: 'kafka', warehouse: 'clickhouse' });
    const [source] = await rows(
      `SELECT records_in FROM pipeline_metrics FINAL WHERE run_id = '${runId}' AND stage LIKE 'source:%'`,
    );
    expect(num(run.records_in)).toBe(num(source!.records_in));
    expect(num(run.records_per_s)).toBeGreaterThan(0);
    expect(num(run.e2e_p50_ms)).toBeGreaterThan(0);
    expect(num(run.e2e_p99_ms)).toBeGreaterThanOrEqual(num(run.e2e_p50_ms));
    // Sampled against the partitions' high watermarks; small inputs arrive in the consumer's first fetches, so 0 is
    // fine.
    expect(run.max_consumer_lag).not.toBeNull();
    expect(num(run.max_consumer_lag)).toBeGreaterThanOrEqual(0);
    expect(num(run.max_consumer_lag)).toBeLessThanOrEqual(num(run.records_in));
    console.log(
      `postings live run: ${run.records_in} records, ${num(run.records_per_s).toFixed(0)} records/s, e2e ` +
        `p50 ${num(run.e2e_p50_ms).toFixed(0)} ms, p99 ${num(run.e2e_p99_ms).toFixed(0)} ms, max ` +
        `lag ${run.max_consumer_lag}`,
    );
    expect(num(run.ended_at)).toBeGreaterThan(num(run.started_at));
  });
});
