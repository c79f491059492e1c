/**
 * Generic parity tools for any driftline classifier (not postings-specific): compare two probability tensors
 * within tolerances, and run a serialized ONNX model over row-major inputs in batches.
 */
import * as ort from 'onnxruntime-node';
import { INPUT_NAME, OUTPUT_NAME } from '../model-contract.ts';

export interface ParityTolerance {
  /** Largest allowed |reference − candidate| over all values. */
  absTol: number;
  /** Largest allowed mean |reference − candidate|. */
  meanTol: number;
}

export interface ParityResult {
  maxAbsDiff: number;
  meanAbsDiff: number;
  /** Where the largest difference is (flat index into the arrays). */
  maxIndex: number;
  ok: boolean;
  message: string;
}

/** Compares candidate probabilities with reference ones (same layout); `message` says what failed and by how much. */
export function compareProbabilities(
  reference: Float32Array,
  candidate: Float32Array,
  tol: ParityTolerance,
): ParityResult {
  if (reference.length !== candidate.length) {
    return {
      maxAbsDiff: Infinity,
      meanAbsDiff: Infinity,
      maxIndex: -1,
      ok: false,
      message: `parity FAILED: length mismatch (reference ${reference.length} values, candidate ${candidate.length})`,
    };
  }
  let max = 0;
  let maxIndex = -1;
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(reference[i]! - candidate[i]!);
    // NaN in either array must fail, never pass silently
    if (!(d <= max)) {
      max = Number.isNaN(d) ? Infinity : d;
      maxIndex = i;
    }
    sum += Number.isNaN(d) ? Infinity : d;
  }
  const mean = reference.length > 0 ? sum / reference.length : 0;
  const failures: string[] = [];
  if (!(max <= tol.absTol))
    failures.push(
      `max abs diff ${max.toExponential(3)} exceeds absTol ${tol.absTol} by ${(max - tol.absTol).toExponential(3)} ` +
        `(at index ${maxIndex}: reference ${reference[maxIndex]}, candidate ${candidate[maxIndex]})`,
    );
  if (!(mean <= tol.meanTol))
    failures.push(
      `mean abs diff ${mean.toExponential(3)} exceeds meanTol ${tol.meanTol} ` +
        `by ${(mean - tol.meanTol).toExponential(3)}`,
    );
  const ok = failures.length === 0;
  const message = ok
    ? `parity ok: max abs diff ${max.toExponential(3)} ≤ ${tol.absTol}, mean abs diff ${mean.toExponential(3)} ` +
      `≤ ${tol.meanTol} over ${reference.length} values`
    : `parity FAILED: ${failures.join('; ')}`;
  return { maxAbsDiff: max, meanAbsDiff: mean, maxIndex, ok, message };
}

export interface RunOnnxOptions {
  batchSize?: number;
  inputName?: string;
  outputName?: string;
  session?: ort.InferenceSession;
}

/** A CPU session, single-threaded and sequential (deterministic); `extra` options are merged in. */
export async function createSession(
  modelBytes: Uint8Array,
  extra: ort.InferenceSession.SessionOptions = {},
): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelBytes, {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    ...extra,
  });
}

/**
 * Runs `modelBytes` over row-major float32 `inputs` of `shape` ([rows, …features]) in batches; returns the output
 * (row-major [rows, classes]).
 */
export async function runOnnx(
  modelBytes: Uint8Array,
  inputs: Float32Array,
  shape: number[],
  options: RunOnnxOptions = {},
): Promise<Float32Array> {
  const session = options.session ?? (await createSession(modelBytes));
  const inputName = options.inputName ?? INPUT_NAME;
  const outputName = options.outputName ?? OUTPUT_NAME;
  const rows = shape[0]!;
  const rowSize = shape.slice(1).reduce((a, b) => a * b, 1);
  if (inputs.length !== rows * rowSize)
    throw new Error(`runOnnx: ${inputs.length} values for shape [${shape.join(', ')}]`);
  const batch = options.batchSize ?? 256;
  const parts: Float32Array[] = [];
  let total = 0;
  try {
    for (let first = 0; first < rows; first += batch) {
      const m = Math.min(batch, rows - first);
      const feed = new ort.Tensor('float32', inputs.subarray(first * rowSize, (first + m) * rowSize), [
        m,
        ...shape.slice(1),
      ]);
      const out = await session.run({ [inputName]: feed });
      const t = out[outputName];
      if (t === undefined) throw new Error(`runOnnx: model has no output ${outputName}`);
      const data = t.data as Float32Array;
      parts.push(data.slice());
      total += data.length;
      for (const v of Object.values(out)) v.dispose?.();
    }
  } finally {
    if (options.session === undefined) await session.release();
  }
  const result = new Float32Array(total);
  let offset = 0;
  for (const p of parts) {
    result.set(p, offset);
    offset += p.length;
  }
  return result;
}
