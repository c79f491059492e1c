import { resolve } from 'node:path';
import { loadSettings } from '../config/settings.ts';
import { accuracy } from '../models/classification-metrics.ts';
import { loadHeldOut, saveHeldOut } from '../models/held-out-store.ts';
import { heldOutFor, kindOf, predictHeldOut } from '../models/held-out-prediction.ts';
import { saveReferenceProfile } from '../operators/drift/reference-profile.ts';
import { modelKind } from '../models/kinds.ts';
import type { TrainedModel } from '../models/model-contract.ts';
import { compareProbabilities, createSession, runOnnx } from '../models/postings/parity.ts';
import { FOLD_DEQUANTIZE_SESSION_OPTIONS } from '../models/postings/quantize.ts';
import { type ModelEntry, ModelRegistry } from '../models/registry/registry.ts';
import { formatRows } from './sql.ts';

const registry = () => ModelRegistry.fromSettings(loadSettings());

/** `models list`: a table, or with `json` every entry in full (the manifest's fields) as one JSON line. */
export function modelsList(options: { json?: boolean } = {}): void {
  const entries = registry().list();
  if (options.json) {
    process.stdout.write(`${JSON.stringify(entries)}\n`);
    return;
  }
  const rows = entries.map((m) => ({
    id: m.id,
    version: m.version,
    kind: m.kind,
    precision: m.precision,
    stage: m.stage,
    parent: m.parent ?? '',
    accuracy: (m.metrics.accuracy ?? m.metrics.holdout_accuracy)?.toFixed(4) ?? '',
    in_force_from: m.in_force_from ?? '', // the event time a stream first scored with it
    created_at: m.created_at,
    sha256: m.sha256.slice(0, 12),
  }));
  console.log(rows.length ? formatRows(rows, 'table') : 'no models registered yet: driftline models train postings');
}

export async function modelsTrain(
  kindName: string,
  options: { data?: string; id?: string; seed?: number },
): Promise<ModelEntry> {
  const { kind, defaultId } = modelKind(kindName);
  const settings = loadSettings();
  const dataDir = resolve(options.data ?? settings.dataDir ?? '../shared/data');
  const config = { ...kind.defaultConfig, ...(options.seed === undefined ? {} : { seed: options.seed }) };
  process.stderr.write(`training ${kindName} on ${dataDir}…\n`);
  const trained = await kind.train(config, dataDir);
  const entry = registerTrained(registry(), kindName, options.id ?? defaultId, trained);
  console.log(`registered ${entry.id}@${entry.version} (${entry.stage}); held-out metrics:`);
  console.log(
    formatRows(
      Object.entries(trained.metrics).map(([metric, value]) => ({ metric, value: Number(value.toFixed(4)) })),
      'table',
    ),
  );
  return entry;
}

/**
 * A trained model into the registry, with what later commands read beside it: held-out, calibration, reference profile.
 */
export function registerTrained(reg: ModelRegistry, kindName: string, id: string, trained: TrainedModel): ModelEntry {
  const { onnx, datasetHash, configHash, metrics } = trained;
  const entry = reg.register({ id, kind: kindName, onnx, datasetHash, configHash, metrics });
  saveHeldOut(reg.path(entry), 'held-out', trained.heldOut);
  saveHeldOut(reg.path(entry), 'calibration', trained.calibration);
  if (trained.referenceProfile)
    saveReferenceProfile(reg.path(entry), { ...trained.referenceProfile, model: `${entry.id}@${entry.version}` });
  return entry;
}

export async function modelsQuantize(
  id: string,
  options: { version?: string; precision: 'int8' | 'fp16' },
): Promise<ModelEntry> {
  const reg = registry();
  const parent = reg.get(id, options.version);
  if (parent.precision !== 'fp32')
    throw new Error(`${id}@${parent.version} is ${parent.precision}; quantize an fp32 version`);
  const { kind } = kindOf(parent);
  const { bytes } = reg.readModel(id, parent.version);
  let onnx: Uint8Array;
  if (options.precision === 'int8') onnx = kind.quantizeInt8(bytes, loadHeldOut(reg.path(parent), 'calibration'));
  else if (kind.toFloat16) onnx = kind.toFloat16(bytes);
  else throw new Error(`${parent.kind} models have no fp16 variant that ONNX Runtime's CPU provider runs`);
  const heldOut = heldOutFor(reg, parent);
  const session = await createSession(onnx, options.precision === 'int8' ? FOLD_DEQUANTIZE_SESSION_OPTIONS : {});
  const probabilities = await runOnnx(onnx, heldOut.inputs, heldOut.shape, { session }).finally(() =>
    session.release(),
  );
  const metrics = { accuracy: accuracy(probabilities, heldOut.labels, kindOf(parent).classes) };
  const entry = reg.register({
    id,
    kind: parent.kind,
    onnx,
    precision: options.precision,
    parent: `${id}@${parent.version}`,
    datasetHash: parent.dataset_hash,
    configHash: parent.config_hash,
    metrics,
  });
  console.log(
    `registered ${entry.id}@${entry.version} (${entry.precision}, ` +
      `parent ${entry.parent}, ${(onnx.byteLength / 1024).toFixed(0)} KiB)`,
  );
  return entry;
}

export async function modelsEval(id: string, options: { version?: string }): Promise<number> {
  const reg = registry();
  const entry = reg.get(id, options.version);
  const { heldOut, probabilities } = await predictHeldOut(reg, entry);
  const acc = accuracy(probabilities, heldOut.labels, kindOf(entry).classes);
  console.log(
    `${entry.id}@${entry.version} (${entry.precision}): accuracy ${acc.toFixed(4)} on ${heldOut.labels.length} ` +
      `held-out rows`,
  );
  return acc;
}

/** Compares a variant with its fp32 parent (or `--against`) on held-out data; exit code 1 outside tolerance. */
export async function modelsParity(
  id: string,
  options: { version?: string; against?: string; absTol: number; meanTol: number },
): Promise<boolean> {
  const reg = registry();
  const candidate = reg.get(id, options.version);
  const referenceRef = options.against ?? candidate.parent;
  if (!referenceRef)
    throw new Error(`${id}@${candidate.version} has no parent; name the reference with --against <version>`);
  const [refId, refVersion] = referenceRef.includes('@') ? referenceRef.split('@') : [id, referenceRef];
  const reference = reg.get(refId!, refVersion);
  const [ref, cand] = [await predictHeldOut(reg, reference), await predictHeldOut(reg, candidate)];
  const result = compareProbabilities(ref.probabilities, cand.probabilities, {
    absTol: options.absTol,
    meanTol: options.meanTol,
  });
  const classes = kindOf(candidate).classes;
  const [refAcc, candAcc] = [
    accuracy(ref.probabilities, ref.heldOut.labels, classes),
    accuracy(cand.probabilities, cand.heldOut.labels, classes),
  ];
  console.log(
    `${candidate.id}@${candidate.version} (${candidate.precision}) vs ${reference.id}@${reference.version} ` +
      `(${reference.precision}) on ${ref.heldOut.labels.length} held-out rows`,
  );
  console.log(`  ${result.message}`);
  console.log(
    `  accuracy ${candAcc.toFixed(4)} vs ${refAcc.toFixed(4)} (${((candAcc / refAcc) * 100).toFixed(2)} % of the ` +
      `reference)`,
  );
  if (!result.ok) process.exitCode = 1;
  return result.ok;
}

export function modelsPromote(id: string, version: string): void {
  const entry = registry().promote(id, version);
  console.log(`${entry.id}@${entry.version} is now in production`);
}
