/**
 * Fine-tuning of the postings MLP from a parent's weights (runs inside the fine-tune worker; the bench calls it
 * directly). The network is the one of train.ts; the weights start as the parent's, then a few epochs of Adam with a
 * small learning rate run over batches with a minimum human share (batch-composition.ts).
 *
 * Deterministic: batches come from a seeded generator, there is no dropout, and the wasm backend is deterministic
 * for these ops, so the same parent, examples (in the same order) and config give the same weights.
 * The optimizer state is fresh per fine-tune (it is not persisted with a version).
 *
 * Memory: featurized rows are kept sparse (a posting touches a few hundred of the FEATURE_DIM buckets) and made
 * dense one batch at a time, so 10,000 examples take a few tens of MB instead of 650 MB of dense rows.
 */
import * as tf from '@tensorflow/tfjs';
import { rng } from '../seeded-random.ts';
import { useBackend } from '../tfjs-runtime.ts';
import { FEATURE_DIM, featurizeBatch, type PostingText } from '../postings/features.ts';
import { CLASSES, DEFAULT_POSTINGS_CONFIG, type MlpWeights, buildMlp, mlpWeights } from '../postings/train.ts';
import { composeBatches } from './batch-composition.ts';

export interface FineTuneConfig {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Minimum share of human-labelled examples in every batch (oversampled when scarce). */
  minHumanShare: number;
  seed: number;
}

/** A quarter of A's learning rate: enough to adapt to the new postings in 3 epochs without forgetting A. */
export const DEFAULT_FINE_TUNE_CONFIG: FineTuneConfig = {
  epochs: 3,
  batchSize: 32,
  learningRate: 0.0005,
  minHumanShare: 0.25,
  seed: 7,
};

export interface FineTuneExample {
  text: PostingText;
  label: number;
  human: boolean;
}

export interface FineTuneResult {
  weights: MlpWeights;
  /** Mean training loss per epoch. */
  losses: number[];
  featurizeSeconds: number;
  trainSeconds: number;
  batchesPerEpoch: number;
  humanPerBatch: number;
}

/** Row-major sparse rows: row r holds indices[offsets[r] .. offsets[r + 1]) with their values. */
export interface SparseRows {
  offsets: Int32Array;
  indices: Uint16Array;
  values: Float32Array;
}

const CHUNK = 64;

export function featurizeSparse(texts: readonly PostingText[]): SparseRows {
  const dense = new Float32Array(CHUNK * FEATURE_DIM);
  const offsets = new Int32Array(texts.length + 1);
  let indices = new Uint16Array(texts.length * 256);
  let values = new Float32Array(texts.length * 256);
  let nnz = 0;
  for (let first = 0; first < texts.length; first += CHUNK) {
    const m = Math.min(CHUNK, texts.length - first);
    featurizeBatch(texts.slice(first, first + m), dense);
    for (let r = 0; r < m; r++) {
      const base = r * FEATURE_DIM;
      for (let k = 0; k < FEATURE_DIM; k++) {
        const v = dense[base + k]!;
        if (v === 0) continue;
        if (nnz === indices.length) {
          const grownIndices = new Uint16Array(indices.length * 2);
          grownIndices.set(indices);
          indices = grownIndices;
          const grownValues = new Float32Array(values.length * 2);
          grownValues.set(values);
          values = grownValues;
        }
        indices[nnz] = k;
        values[nnz++] = v;
      }
      offsets[first + r + 1] = nnz;
    }
  }
  return { offsets, indices: indices.slice(0, nnz), values: values.slice(0, nnz) };
}

/** Dense row-major [rows.length, FEATURE_DIM] of the given rows, into `out` (zeroed here). */
export function densify(sparse: SparseRows, rows: readonly number[], out: Float32Array): Float32Array {
  const target = out.subarray(0, rows.length * FEATURE_DIM);
  target.fill(0);
  rows.forEach((row, r) => {
    for (let k = sparse.offsets[row]!; k < sparse.offsets[row + 1]!; k++)
      target[r * FEATURE_DIM + sparse.indices[k]!] = sparse.values[k]!;
  });
  return target;
}

export async function fineTuneMlp(
  parent: MlpWeights,
  examples: readonly FineTuneExample[],
  config: FineTuneConfig,
): Promise<FineTuneResult> {
  const [inSize, hidden, classes] = parent.sizes;
  if (inSize !== FEATURE_DIM || classes !== CLASSES.length)
    throw new Error(`parent MLP is [${parent.sizes}], expected [${FEATURE_DIM}, hidden, ${CLASSES.length}]`);
  await useBackend('wasm');
  const t0 = performance.now();
  const rows = featurizeSparse(examples.map((e) => e.text));
  const featurizeSeconds = (performance.now() - t0) / 1000;

  const model = buildMlp({ ...DEFAULT_POSTINGS_CONFIG, hidden });
  const start = [
    tf.tensor2d(parent.w1, [inSize, hidden]),
    tf.tensor1d(parent.b1),
    tf.tensor2d(parent.w2, [hidden, classes]),
    tf.tensor1d(parent.b2),
  ];
  model.setWeights(start);
  tf.dispose(start);
  model.compile({ optimizer: tf.train.adam(config.learningRate), loss: 'categoricalCrossentropy' });

  const pseudo: number[] = [];
  const human: number[] = [];
  examples.forEach((e, i) => {
    (e.human ? human : pseudo).push(i);
  });
  const random = rng(config.seed);
  const buffer = new Float32Array(config.batchSize * FEATURE_DIM);
  const losses: number[] = [];
  let batchesPerEpoch = 0;
  let humanPerBatch = 0;
  const t1 = performance.now();
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const plan = composeBatches(pseudo, human, config.batchSize, config.minHumanShare, random);
    batchesPerEpoch = plan.batches.length;
    humanPerBatch = plan.humanPerBatch;
    let sum = 0;
    for (const batch of plan.batches) {
      const x = tf.tensor2d(densify(rows, batch, buffer), [batch.length, FEATURE_DIM]);
      const y = tf.oneHot(
        tf.tensor1d(
          Int32Array.from(batch, (i) => examples[i]!.label),
          'int32',
        ),
        classes,
      );
      sum += (await model.trainOnBatch(x, y)) as number;
      tf.dispose([x, y]);
    }
    losses.push(plan.batches.length ? sum / plan.batches.length : 0);
  }
  const trainSeconds = (performance.now() - t1) / 1000;
  const weights = mlpWeights(model);
  model.optimizer.dispose();
  model.dispose();
  return { weights, losses, featurizeSeconds, trainSeconds, batchesPerEpoch, humanPerBatch };
}
