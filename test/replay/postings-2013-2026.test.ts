/**
 * The postings story replayed in event time, 2013 → 2026, monthly windows, on the real HN files: Model A (trained on
 * Glassdoor 2020) scores every posting, drift is measured against the stream's own first 5,000 postings (2013–14),
 * the 2026 `classified.json` truth arrives at each collection run's date, and Model B learns from it.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../models/registry/registry.ts';
import { dataDir, dataFile } from '../data-dir.ts';
import { driftlineOk } from '../e2e/cli.ts';
import { registerTrainedOnce } from '../shared-models.ts';

const dir = mkdtempSync(join(tmpdir(), 'driftline-postings-replay-'));
// embedded defaults: the global setup exports KAFKA_BROKERS and CLICKHOUSE_URL, which this run must not use
const env = {
  DRIFTLINE_HOME: join(dir, 'home'),
  DRIFTLINE_MODELS_MANIFEST: join(dir, 'models.json'),
  KAFKA_BROKERS: '',
  CLICKHOUSE_URL: '',
};
let rows: (sql: string) => Promise<Record<string, unknown>[]>;
let heldOut: number;
const num = (v: unknown) => Number(v);

beforeAll(async () => {
  writeFileSync(env.DRIFTLINE_MODELS_MANIFEST, '{"models":[]}');
  const input = join(dir, 'input');
  mkdirSync(input);
  for (const folder of ['hn-hiring-2013-2018', 'hn-hiring-2026'])
    symlinkSync(dataFile('postings', folder), join(input, folder));
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      pipelines: { postings: { driftReference: 'warm-up', warmUpRecords: 5000, windowDays: 30, minWindowSize: 200 } },
    }),
  );
  // Model A as `driftline models train postings` registers it, trained once per test run (test/shared-models.ts).
  await registerTrainedOnce('postings', dataDir(), {
    manifestPath: env.DRIFTLINE_MODELS_MANIFEST,
    home: env.DRIFTLINE_HOME,
  });
  heldOut = new ModelRegistry({ manifestPath: env.DRIFTLINE_MODELS_MANIFEST, home: env.DRIFTLINE_HOME }).get(
    'postings-a',
  ).metrics.accuracy!;
  await driftlineOk(['replay', 'postings', '--input', input, '--config', config], env);
  const db = await (
    await DuckDBInstance.create(join(env.DRIFTLINE_HOME, 'warehouse.duckdb'), { access_mode: 'READ_ONLY' })
  ).connect();
  rows = async (sql) => (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}, 600_000);

describe('postings replay 2013 → 2026 (real HN files, monthly windows)', () => {
  it('flags keyword drift in the 2026 windows and in few 2013–2018 windows', async () => {
    const windows = await rows(`select window_start, drifted from drift_metrics where feature = 'keywords'`);
    const recent = windows.filter((w) => num(w.window_start) >= Date.UTC(2025, 10, 1));
    const old = windows.filter((w) => num(w.window_start) < Date.UTC(2018, 6, 1));
    expect(recent.length).toBeGreaterThanOrEqual(4);
    expect(old.length).toBeGreaterThan(20);
    expect(recent.every((w) => num(w.drifted) === 1)).toBe(true);
    const oldDrifted = old.filter((w) => num(w.drifted) === 1).length;
    console.log(
      `keyword drift: ${recent.length}/${recent.length} windows from 2025-11 on, ${oldDrifted}/${old.length} in ` +
        `2013–2018`,
    );
    expect(oldDrifted / old.length).toBeLessThan(0.2);
  });

  it('shows Model A measurably worse on the 2026 ground truth than on its held-out set', async () => {
    const [t] = await rows(
      `select sum(labeled) n, sum(correct_a) a, sum(correct_b) b from model_comparison where labeled > 0`,
    );
    const a = num(t!.a) / num(t!.n);
    const b = num(t!.b) / num(t!.n);
    console.log(
      `2026 truth (${t!.n} postings): Model A ${a.toFixed(4)} (held-out ${heldOut.toFixed(4)}), Model B as it ` +
        `predicted during the replay ${b.toFixed(4)}`,
    );
    expect(num(t!.n)).toBeGreaterThan(1400);
    expect(a).toBeLessThan(heldOut - 0.05);
    expect(b).toBeGreaterThanOrEqual(a);
  });

  it('promotes Model B at least once, beating A on the human-labelled holdout', async () => {
    const runs = await rows(
      `select candidate_version, promoted, candidate_accuracy, model_a_accuracy, current_accuracy from ` +
        `training_runs order by finished_at`,
    );
    console.log(
      runs
        .map(
          (r) =>
            `${r.candidate_version}: ${num(r.candidate_accuracy).toFixed(4)} vs ` +
            `current ${num(r.current_accuracy).toFixed(4)} vs A ${num(r.model_a_accuracy).toFixed(4)} ` +
            `→ ${num(r.promoted) ? 'promoted' : 'kept'}`,
        )
        .join('\n'),
    );
    const promoted = runs.filter((r) => num(r.promoted) === 1);
    expect(promoted.length).toBeGreaterThanOrEqual(1);
    for (const r of promoted) expect(num(r.candidate_accuracy)).toBeGreaterThan(num(r.model_a_accuracy));
  });
});
