/**
 * Replay determinism of `postings` with Model B training on. A fine-tune runs in a child process and Model B is
 * hot-swapped when it finishes (wall clock), so which records the new B version predicts depends on timing. What
 * must stay identical between two replays of the same input: every row that does not depend on B — postings, labels,
 * Model A's predictions, drift, pseudo-labels — and B's predictions wherever both replays used the same B version.
 * With `"train": false` two replays are identical in every table.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataDir, dataFile } from '../data-dir.ts';
import { driftlineOk } from '../e2e/cli.ts';
import { replay, tempHome, warehouseSnapshot } from './replay-helpers.ts';

const HN_2026 = dataFile('postings', 'hn-hiring-2026');
/** Tables whose rows depend on Model B's predictions (or on B's training, which follows the wall clock). */
const DEPENDS_ON_B = ['predictions', 'label_queue', 'model_comparison', 'training_runs', 'pipeline_metrics'];

const base = mkdtempSync(join(tmpdir(), 'driftline-replay-training-'));
const baseEnv = { DRIFTLINE_HOME: join(base, 'home'), DRIFTLINE_MODELS_MANIFEST: join(base, 'models.json'), DRIFTLINE_DATA_DIR: dataDir(), KAFKA_BROKERS: '', CLICKHOUSE_URL: '' };

/** A fresh home holding the same trained Model A (and no B yet), so every replay starts from the same registry. */
function homeWithModelA(name: string) {
  const home = tempHome(name);
  cpSync(join(baseEnv.DRIFTLINE_HOME, 'models'), join(home, 'models'), { recursive: true });
  cpSync(baseEnv.DRIFTLINE_MODELS_MANIFEST, join(home, 'models.json'));
  return { ...baseEnv, DRIFTLINE_HOME: home, DRIFTLINE_MODELS_MANIFEST: join(home, 'models.json') };
}

async function replayTwice(config: object) {
  const file = join(base, `config-${Object.keys(config).length}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify({ pipelines: { postings: config } }));
  const envs = [homeWithModelA('train-a'), homeWithModelA('train-b')];
  const runIds: string[] = [];
  for (const env of envs) runIds.push(await replay(['postings', '--input', HN_2026, '--config', file], env));
  return Promise.all(envs.map((env, i) => warehouseSnapshot(env.DRIFTLINE_HOME, runIds[i]!)));
}

const parsed = (rows: string[] | undefined) => (rows ?? []).map((r) => JSON.parse(r) as Record<string, unknown>);

beforeAll(async () => {
  writeFileSync(baseEnv.DRIFTLINE_MODELS_MANIFEST, '{"models":[]}');
  await driftlineOk(['models', 'train', 'postings', '--data', dataDir()], baseEnv);
}, 120_000);

describe('postings replay with Model B training', () => {
  it('training on: rows that do not depend on B are identical, and so are B predictions made by the same B version', async () => {
    // fine-tune often, so promotions (hot swaps of B) can land while the replay is still predicting
    const [first, second] = await replayTwice({ retrainEvery: 50 });
    expect(parsed(first!.training_runs).length, 'the replay fine-tuned B').toBeGreaterThan(0);
    expect(parsed(second!.training_runs).length).toBeGreaterThan(0);
    for (const table of Object.keys(first!)) {
      if (DEPENDS_ON_B.includes(table)) continue;
      expect(second![table], table).toEqual(first![table]);
    }
    expect(first!.postings!.length).toBeGreaterThan(1_000);
    expect(first!.drift_metrics!.length).toBeGreaterThan(0);
    expect(first!.pseudo_label_windows!.length).toBeGreaterThan(0);

    const predictions = parsed(first!.predictions);
    const again = new Map(parsed(second!.predictions).map((p) => [p.id, p]));
    const byModel = (rows: Record<string, unknown>[], model: string) => rows.filter((p) => p.model_id === model);
    // Model A: every prediction identical.
    expect(byModel([...again.values()], 'postings-a')).toEqual(expect.arrayContaining(byModel(predictions, 'postings-a')));
    expect(byModel([...again.values()], 'postings-a')).toHaveLength(byModel(predictions, 'postings-a').length);
    // Model B: the same record predicted by the same version gives the same row (ids are record/model/version).
    const sharedB = byModel(predictions, 'postings-b').filter((p) => again.has(p.id));
    expect(sharedB.length).toBeGreaterThan(0);
    for (const p of sharedB) expect(again.get(p.id), String(p.id)).toEqual(p);
    const versions = (rows: Record<string, unknown>[]) => [...new Set(byModel(rows, 'postings-b').map((p) => p.model_version))].sort();
    const runs = parsed(first!.training_runs);
    console.log(`training runs: ${runs.length}, promoted ${runs.filter((r) => Number(r.promoted) === 1).length}; ` +
      `B versions that predicted: ${versions(predictions).join(', ')} / ${versions([...again.values()]).join(', ')}; ${sharedB.length} of ${byModel(predictions, 'postings-b').length} B predictions made by the same version in both replays`);
  }, 400_000);

  it('training off ("train": false): two replays are identical in every table', async () => {
    const [first, second] = await replayTwice({ train: false });
    expect(first!.training_runs).toEqual([]);
    expect(first!.predictions!.length).toBeGreaterThan(2_000);
    expect(first!.model_comparison!.length).toBeGreaterThan(0);
    for (const table of Object.keys(first!)) expect(second![table], table).toEqual(first![table]);
  }, 400_000);
});
