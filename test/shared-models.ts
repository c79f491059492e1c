/**
 * Trained models shared by the test files of one `vitest run`: the first file that needs, say, the NEU-DET frame CNN
 * trains it for real (`kind.train`, as `driftline models train` does) and stores the result under the run's cache
 * directory (DRIFTLINE_TEST_MODEL_CACHE, made and removed by test/shared-models-setup.ts); the others read it back.
 * Training is deterministic by seed (models/frames/frames-model.test.ts checks it), so a stored result is the
 * result. The key is a content address: the kind, its config, the data directory's files (path, size, mtime), every
 * source file the model kinds import and the locked dependency versions. Without the variable nothing is stored.
 *
 * A whole-suite run trains these models ahead, in a background process (test/shared-models-pretrain.ts, started by
 * test/sequencer.ts): while it trains a kind, `<cache>/<kind>.pending` names its pid, and a file that needs that model
 * meanwhile waits for the stored result instead of training the same thing a second time.
 */
import { createHash } from 'node:crypto';
import { setPriority } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerTrained } from '../cli/models.ts';
import type { TrainedModel } from '../models/model-contract.ts';
import { loadHeldOut, saveHeldOut } from '../models/held-out-store.ts';
import { modelKind } from '../models/kinds.ts';
import { ModelRegistry, type ModelEntry } from '../models/registry/registry.ts';
import { pendingFile, pendingTrainer } from './shared-models-pending.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface SharedTraining {
  trained: TrainedModel;
  /** Seconds `kind.train` took in this process, or null when the result was read from the run's cache. */
  trainSeconds: number | null;
}

/** `modelKind(kindName).kind.train(config, dataDir)`, once per test run for the same inputs. */
export async function trainedOnce(kindName: string, dataDir: string, config?: object): Promise<SharedTraining> {
  const { kind } = modelKind(kindName);
  const fullConfig = { ...kind.defaultConfig, ...config };
  const cacheRoot = process.env.DRIFTLINE_TEST_MODEL_CACHE;
  const dir = cacheRoot ? join(cacheRoot, `${kindName}-${cacheKey(kindName, fullConfig, dataDir)}`) : undefined;
  if (dir && (await storedOrTrainedAhead(cacheRoot!, kindName, dir)))
    return { trained: readTrained(dir), trainSeconds: null };
  const t0 = performance.now();
  const trained = await kind.train(fullConfig, dataDir);
  const trainSeconds = (performance.now() - t0) / 1000;
  if (dir) writeTrained(dir, trained);
  return { trained, trainSeconds };
}

/**
 * For the background process: trains `kindName` with its default config into the run's cache, then removes its
 * `.pending` file (written by whoever started the process, before any test file could look for it).
 */
export async function trainAhead(kindName: string, dataDir: string): Promise<SharedTraining> {
  const cacheRoot = process.env.DRIFTLINE_TEST_MODEL_CACHE;
  if (!cacheRoot) throw new Error('trainAhead: DRIFTLINE_TEST_MODEL_CACHE is not set');
  try {
    return await trainedOnce(kindName, dataDir);
  } finally {
    rmSync(pendingFile(cacheRoot, kindName), { force: true });
  }
}

/**
 * Whether `dir` holds a stored result, after waiting while the background process trains that kind: for the
 * default config that is this result; for another one the wait is only a short detour.
 */
async function storedOrTrainedAhead(cacheRoot: string, kindName: string, dir: string): Promise<boolean> {
  const stored = () => existsSync(join(dir, 'trained.json'));
  const trainer = () => pendingTrainer(pendingFile(cacheRoot, kindName));
  const elsewhere = (pid: number | undefined) => pid !== undefined && pid !== process.pid;
  const first = trainer();
  if (!stored() && elsewhere(first)) hurry(first!);
  while (!stored() && elsewhere(trainer())) await new Promise((r) => setTimeout(r, 500));
  return stored();
}

/**
 * The background trainer runs below the test files' priority; a file waiting for it leaves its core idle, so the
 * training need not give way any more. Raising a priority back takes root (CI) or CAP_SYS_NICE: else it stays low.
 */
function hurry(pid: number): void {
  try {
    setPriority(pid, 0);
  } catch {
    // not allowed here: the training goes on at its own pace
  }
}

/**
 * A registry at `manifestPath` / `home` holding the shared trained model as version v1 of `id`, registered exactly as
 * `driftline models train` registers it (artifact, held-out and calibration data, reference profile).
 */
export async function registerTrainedOnce(
  kindName: string,
  dataDir: string,
  registry: { manifestPath: string; home: string },
): Promise<ModelEntry> {
  const { trained } = await trainedOnce(kindName, dataDir);
  return registerTrained(new ModelRegistry(registry), kindName, modelKind(kindName).defaultId, trained);
}

function cacheKey(kindName: string, config: object, dataDir: string): string {
  const inputs = { kindName, config, dataDir: resolve(dataDir), node: process.version };
  const hash = createHash('sha256').update(JSON.stringify(inputs));
  for (const file of filesUnder(resolve(dataDir))) {
    const s = statSync(file);
    hash.update(`${relative(dataDir, file)} ${s.size} ${s.mtimeMs}\n`);
  }
  for (const file of [...sourceClosure(join(root, 'models', 'kinds.ts'))].sort()) {
    hash.update(`${relative(root, file)}\n`).update(readFileSync(file));
  }
  hash.update(readFileSync(join(root, 'package-lock.json')));
  return hash.digest('hex').slice(0, 16);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** The .ts files `entry` imports, directly or not (relative imports only: packages are in the lock file). */
function sourceClosure(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const text = readFileSync(entry, 'utf8');
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.\.?\/[^']+\.ts)'/g)) {
    const file = resolve(dirname(entry), m[1]!);
    if (existsSync(file)) sourceClosure(file, seen);
  }
  return seen;
}

const f32 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Written to a temporary directory first and renamed, so a reader never sees half of it. */
function writeTrained(dir: string, trained: TrainedModel): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'model.onnx'), trained.onnx);
  saveHeldOut(join(tmp, 'model.onnx'), 'held-out', trained.heldOut);
  saveHeldOut(join(tmp, 'model.onnx'), 'calibration', trained.calibration);
  writeFileSync(join(tmp, 'framework-probabilities.f32'), f32(trained.frameworkProbabilities));
  const { classes, metrics, datasetHash, configHash, referenceProfile } = trained;
  const meta = { classes, metrics, datasetHash, configHash, referenceProfile };
  writeFileSync(join(tmp, 'trained.json'), JSON.stringify(meta));
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another file stored it first
  }
}

function readTrained(dir: string): TrainedModel {
  type Meta = Omit<TrainedModel, 'onnx' | 'heldOut' | 'calibration' | 'frameworkProbabilities'>;
  const meta = JSON.parse(readFileSync(join(dir, 'trained.json'), 'utf8')) as Meta;
  const bytes = readFileSync(join(dir, 'framework-probabilities.f32'));
  const probabilityBytes = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return {
    ...meta,
    onnx: new Uint8Array(readFileSync(join(dir, 'model.onnx'))),
    heldOut: loadHeldOut(join(dir, 'model.onnx'), 'held-out'),
    calibration: loadHeldOut(join(dir, 'model.onnx'), 'calibration'),
    frameworkProbabilities: new Float32Array(probabilityBytes),
  };
}
