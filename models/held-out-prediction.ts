/**
 * A registered version's predictions on its held-out data, the way `driftline models eval` computes them. Shared by
 * the CLI and the trade-off benchmark, so the benchmark's accuracy is the figure `models eval` prints.
 */
import { accuracy } from './classification-metrics.ts';
import { loadHeldOut } from './held-out-store.ts';
import { modelKinds } from './kinds.ts';
import type { HeldOut } from './model-contract.ts';
import { createSession, runOnnx } from './postings/parity.ts';
import { FOLD_DEQUANTIZE_SESSION_OPTIONS } from './postings/quantize.ts';
import type { ModelEntry, ModelRegistry } from './registry/registry.ts';

/** The kind of a registered version (by `models train` name or ModelKind id). */
export function kindOf(entry: ModelEntry) {
  const found = Object.entries(modelKinds).find(([name, k]) => name === entry.kind || k.kind.id === entry.kind);
  if (!found)
    throw new Error(`model ${entry.id}@${entry.version} is of kind "${entry.kind}", which this version cannot handle`);
  return found[1];
}

/** Held-out data of a version: its own, else its parent's (a quantized variant is evaluated on its parent's). */
export function heldOutFor(reg: ModelRegistry, entry: ModelEntry): HeldOut {
  for (const e of reg.lineage(entry.id, entry.version)) {
    try {
      return loadHeldOut(reg.path(e), 'held-out');
    } catch {
      // try the parent
    }
  }
  throw new Error(`no held-out data for ${entry.id}@${entry.version} or its parents`);
}

/**
 * Session options `models eval` uses for a precision: INT8 sessions fold the weights once at load (see quantize.ts).
 */
export const evalSessionOptions = (entry: Pick<ModelEntry, 'precision'>) =>
  entry.precision === 'int8' ? FOLD_DEQUANTIZE_SESSION_OPTIONS : {};

/** Probabilities of a version on its held-out data, on ONNX Runtime. */
export async function predictHeldOut(
  reg: ModelRegistry,
  entry: ModelEntry,
): Promise<{ heldOut: HeldOut; probabilities: Float32Array }> {
  const heldOut = heldOutFor(reg, entry);
  const { bytes } = reg.readModel(entry.id, entry.version);
  const session = await createSession(bytes, evalSessionOptions(entry));
  try {
    return { heldOut, probabilities: await runOnnx(bytes, heldOut.inputs, heldOut.shape, { session }) };
  } finally {
    await session.release();
  }
}

/** Accuracy of a version on its held-out data: the figure `driftline models eval` prints. */
export async function heldOutAccuracy(
  reg: ModelRegistry,
  entry: ModelEntry,
): Promise<{ accuracy: number; rows: number }> {
  const { heldOut, probabilities } = await predictHeldOut(reg, entry);
  return { accuracy: accuracy(probabilities, heldOut.labels, kindOf(entry).classes), rows: heldOut.labels.length };
}
