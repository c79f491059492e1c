/**
 * Replay determinism of `postings` with Model B training on. A replay trains B in event time: a fine-tune is
 * triggered at an event time, the training barrier holds the stream until it is decided, and its version scores the
 * records after that time. So two replays of the same input give identical rows in every table — B's predictions,
 * the labelling queue, A vs B and the training runs included — however long fine-tunes take (here 0.1 s and 1 s
 * added to each, a tenfold difference). Labels are used only from their own time (`labeled_at`), and B's accuracy on
 * the labelled postings it scored after its first promotion shows the learning: well above A's on the same records.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataDir, dataFile } from '../data-dir.ts';
import { registerTrainedOnce } from '../shared-models.ts';
import { replay, tempHome, warehouseSnapshot } from './replay-helpers.ts';

const HN_2026 = dataFile('postings', 'hn-hiring-2026');
const base = mkdtempSync(join(tmpdir(), 'driftline-replay-training-'));
const baseEnv = {
  DRIFTLINE_HOME: join(base, 'home'),
  DRIFTLINE_MODELS_MANIFEST: join(base, 'models.json'),
  DRIFTLINE_DATA_DIR: dataDir(),
  KAFKA_BROKERS: '',
  CLICKHOUSE_URL: '',
};

/** A fresh home holding the same trained Model A (and no B yet), so every replay starts from the same registry. */
function homeWithModelA(name: string) {
  const home = tempHome(name);
  cpSync(join(baseEnv.DRIFTLINE_HOME, 'models'), join(home, 'models'), { recursive: true });
  cpSync(baseEnv.DRIFTLINE_MODELS_MANIFEST, join(home, 'models.json'));
  return { ...baseEnv, DRIFTLINE_HOME: home, DRIFTLINE_MODELS_MANIFEST: join(home, 'models.json') };
}

async function replayTwice(config: object, delaysMs = [0, 0]) {
  const file = join(base, `config-${Object.keys(config).length}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify({ pipelines: { postings: config } }));
  const envs = delaysMs.map((ms, i) => ({ ...homeWithModelA(`train-${i}`), DRIFTLINE_FINE_TUNE_DELAY_MS: String(ms) }));
  // Side by side: separate processes and homes, so neither can see the other (and the second core is used).
  const runIds = await Promise.all(envs.map((env) => replay(['postings', '--input', HN_2026, '--config', file], env)));
  return Promise.all(envs.map((env, i) => warehouseSnapshot(env.DRIFTLINE_HOME, runIds[i]!)));
}

const parsed = (rows: string[] | undefined) => (rows ?? []).map((r) => JSON.parse(r) as Record<string, unknown>);

beforeAll(async () => {
  writeFileSync(baseEnv.DRIFTLINE_MODELS_MANIFEST, '{"models":[]}');
  // Model A as `driftline models train postings` registers it, trained once per test run (test/shared-models.ts).
  await registerTrainedOnce('postings', dataDir(), {
    manifestPath: baseEnv.DRIFTLINE_MODELS_MANIFEST,
    home: baseEnv.DRIFTLINE_HOME,
  });
}, 600_000); // the first file of a run to need Model A trains it

describe('postings replay with Model B training', () => {
  it('training on: identical rows in all tables with 0.1 s and 1 s fine-tunes; B beats A after promotion', async () => {
    const [fast, slow] = await replayTwice({ retrainEvery: 200 }, [100, 1_000]);
    const runs = parsed(fast!.training_runs);
    expect(runs.length, 'the replay fine-tuned B').toBeGreaterThan(1);
    const promoted = runs.filter((r) => Number(r.promoted) === 1);
    expect(promoted.length, 'a candidate was promoted').toBeGreaterThan(0);
    for (const table of Object.keys(fast!)) expect(slow![table], table).toEqual(fast![table]);

    // Every promoted version scores exactly the records after its trigger's event time (in force from T + 1 ms).
    const predictions = parsed(fast!.predictions);
    const postedAt = new Map(parsed(fast!.postings).map((p) => [p.id, Number(p.posted_at ?? p.version)]));
    const firstFrom = Math.min(...promoted.map((r) => Number(r.in_force_from)));
    const b = predictions.filter((p) => p.model_id === 'postings-b');
    expect(b.length).toBe(1_720);
    for (const p of b)
      expect(p.model_version === 'v1', `${p.record_id} at ${postedAt.get(p.record_id)}`).toBe(
        postedAt.get(p.record_id)! < firstFrom,
      );

    // The learning shows: on labelled postings B scored after its first promotion, B beats A on the same records.
    const truth = new Map(parsed(fast!.labels).map((l) => [l.record_id, Number(l.label)]));
    const after = new Set(b.filter((p) => p.model_version !== 'v1' && truth.has(p.record_id)).map((p) => p.record_id));
    const accuracy = (model: string) => {
      const rows = predictions.filter((p) => p.model_id === model && after.has(p.record_id));
      return rows.filter((p) => Number(p.label) === truth.get(p.record_id)).length / rows.length;
    };
    console.log(
      `${runs.length} fine-tunes, ${promoted.length} promoted; after the first promotion ` +
        `(${new Date(firstFrom).toISOString()}): A ${accuracy('postings-a').toFixed(3)} vs ` +
        `B ${accuracy('postings-b').toFixed(3)} on ${after.size} labelled postings`,
    );
    expect(after.size).toBeGreaterThan(500);
    expect(accuracy('postings-b')).toBeGreaterThanOrEqual(accuracy('postings-a') + 0.1);
  }, 600_000);

  it('training off ("train": false): two replays are identical in every table', async () => {
    const [first, second] = await replayTwice({ train: false });
    expect(first!.training_runs).toEqual([]);
    expect(first!.predictions!.length).toBeGreaterThan(2_000);
    expect(first!.model_comparison!.length).toBeGreaterThan(0);
    for (const table of Object.keys(first!)) expect(second![table], table).toEqual(first![table]);
  }, 400_000);
});
