/**
 * Model A, the postings classifier (software engineering = 0, data science = 1), trained in tfjs on the Glassdoor
 * 2020 files (`postings/glassdoor-2020/*.csv`), labelled by file through the Glassdoor connector.
 *
 * Data Engineer / Data Analyst (and similar) titles in data_science.csv keep label 1, as the connector labels them:
 * the label is the search the posting came from, so "data science" here means the data-roles family (scientist,
 * engineer, analyst), not data scientist titles only. No rows are relabelled or dropped by title. Duplicate rows are
 * dropped by the connector (stable id over title, company, location, description), across both files.
 *
 * Determinism: the postings are read in sorted file order; a stratified held-out split by a seeded shuffle
 * (mulberry32) per class; glorot-uniform kernels with fixed seeds, zero biases; a seeded shuffle per epoch; no dropout.
 * The same config and data give identical weights and metrics (checked by the tests).
 *
 * Network: dense(FEATURE_DIM → hidden, relu) → dense(→ 2) → softmax, Adam, categorical cross-entropy, fixed epochs.
 */
import { accuracy, argmax, expectedCalibrationError } from '../classification-metrics.ts';
import { configHash, lineageHash } from '../registry/lineage.ts';
import { rng, shuffleInPlace } from '../seeded-random.ts';
import { predictInChunks, useBackend } from '../tfjs-runtime.ts';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readGlassdoor } from '../../connectors/postings/index.ts';
import { normalizePosting } from '../../operators/normalize/index.ts';
import { FEATURE_DIM, featurizeBatch, type PostingText } from './features.ts';

export const CLASSES = ['software_engineering', 'data_science'];

export interface PostingsModelConfig {
  seed: number;
  hidden: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  heldOutFraction: number;
  /** Folder under the data directory holding the labelled CSV files. */
  dataset: string;
}

export const DEFAULT_POSTINGS_CONFIG: PostingsModelConfig = {
  seed: 42,
  hidden: 32,
  epochs: 6,
  batchSize: 32,
  learningRate: 0.002,
  heldOutFraction: 0.2,
  dataset: 'postings/glassdoor-2020',
};

// --- small seeded helpers --------------------------------------------------------------------------------------------

// --- data ------------------------------------------------------------------------------------------------------------

export interface PostingsDataset {
  postings: PostingText[];
  labels: Int32Array;
  files: string[];
  /** Lineage hash of the files read (see models/registry/lineage.ts). */
  datasetHash: string;
  rejected: number;
}

export async function loadPostingsDataset(
  dataDir: string,
  dataset = DEFAULT_POSTINGS_CONFIG.dataset,
): Promise<PostingsDataset> {
  const dir = join(dataDir, dataset);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.csv')).sort();
  if (files.length === 0) throw new Error(`no CSV files in ${dir}`);
  const postings: PostingText[] = [];
  const labels: number[] = [];
  let rejected = 0;
  for await (const batch of readGlassdoor(files.map((f) => join(dir, f)))) {
    for (const raw of batch) {
      try {
        const p = normalizePosting(raw);
        if (p.label === null) continue;
        postings.push({ title: p.title, description: p.description });
        labels.push(p.label);
      } catch {
        rejected++;
      }
    }
  }
  return {
    postings,
    labels: Int32Array.from(labels),
    files,
    datasetHash: lineageHash(files.map((f) => join(dir, f))),
    rejected,
  };
}

/** Stratified seeded split: per class, a seeded shuffle of its rows; the first round(fraction × count) are held out. */
export function stratifiedSplit(
  labels: Int32Array,
  fraction: number,
  seed: number,
): { train: number[]; heldOut: number[] } {
  const random = rng(seed);
  const train: number[] = [];
  const heldOut: number[] = [];
  for (let c = 0; c < CLASSES.length; c++) {
    const members = shuffleInPlace(
      [...labels.keys()].filter((i) => labels[i] === c),
      random,
    );
    const k = Math.round(members.length * fraction);
    heldOut.push(...members.slice(0, k));
    train.push(...members.slice(k));
  }
  return { train, heldOut };
}

export function gatherRows(inputs: Float32Array, dim: number, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((src, r) => {
    out.set(inputs.subarray(src * dim, (src + 1) * dim), r * dim);
  });
  return out;
}

// --- model -----------------------------------------------------------------------------------------------------------

export { useBackend };

export function buildMlp(config: PostingsModelConfig): tf.Sequential {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: config.seed * 101 + k });
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [FEATURE_DIM],
        units: config.hidden,
        activation: 'relu',
        kernelInitializer: init(1),
        biasInitializer: 'zeros',
        name: 'hidden',
      }),
      tf.layers.dense({
        units: CLASSES.length,
        activation: 'softmax',
        kernelInitializer: init(2),
        biasInitializer: 'zeros',
        name: 'output',
      }),
    ],
  });
}

/** Weights of the two dense layers, row-major [in, out]. */
export interface MlpWeights {
  sizes: [number, number, number];
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

export function mlpWeights(model: tf.LayersModel): MlpWeights {
  const [w1, b1, w2, b2] = model.getWeights().map((t) => t.dataSync() as Float32Array);
  const hidden = b1!.length;
  return {
    sizes: [w1!.length / hidden, hidden, b2!.length],
    w1: w1!.slice(),
    b1: b1!.slice(),
    w2: w2!.slice(),
    b2: b2!.slice(),
  };
}

/** Class probabilities for row-major [n, FEATURE_DIM] inputs. */
export function predictProbabilities(model: tf.LayersModel, inputs: Float32Array, chunk = 256): Float32Array {
  return predictInChunks(model, inputs, [FEATURE_DIM], chunk);
}

// --- metrics ---------------------------------------------------------------------------------------------------------

export interface BinaryMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Expected calibration error: 10 equal-width bins on the max probability. */
  ece: number;
  n: number;
}

/** Metrics of 2-class probabilities (row-major [n, 2]); class 1 (data science) is the positive class. */
export function binaryMetrics(probs: Float32Array, labels: Int32Array, bins = 10): BinaryMetrics {
  const n = labels.length;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) {
    const pred = argmax(probs, i, 2);
    if (pred === 1 && labels[i] === 1) tp++;
    else if (pred === 1) fp++;
    else if (labels[i] === 1) fn++;
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return {
    accuracy: accuracy(probs, labels, 2),
    precision,
    recall,
    f1,
    ece: expectedCalibrationError(probs, labels, 2, bins),
    n,
  };
}

// --- training --------------------------------------------------------------------------------------------------------

export interface PostingsTrainResult {
  model: tf.Sequential;
  weights: MlpWeights;
  config: PostingsModelConfig;
  configHash: string;
  datasetHash: string;
  metrics: BinaryMetrics;
  losses: number[];
  trainSeconds: number;
  /** Held-out and training rows in model-input form. */
  heldOut: { inputs: Float32Array; labels: Int32Array };
  train: { inputs: Float32Array; labels: Int32Array };
  heldOutProbabilities: Float32Array;
  /**
   * Title and description of the held-out rows, in `heldOut` order (the model's reference profile is built on them).
   */
  heldOutTexts: PostingText[];
  dataset: { rows: number; rejected: number; files: string[]; perClass: number[] };
}

export async function trainPostingsModel(config: PostingsModelConfig, dataDir: string): Promise<PostingsTrainResult> {
  // wasm runs the dense forward/backward ~10× faster than 'cpu'; both are deterministic for these ops
  await useBackend('wasm');
  const data = await loadPostingsDataset(dataDir, config.dataset);
  const all = featurizeBatch(data.postings);
  const split = stratifiedSplit(data.labels, config.heldOutFraction, config.seed);
  const train = {
    inputs: gatherRows(all, FEATURE_DIM, split.train),
    labels: Int32Array.from(split.train, (i) => data.labels[i]!),
  };
  const heldOut = {
    inputs: gatherRows(all, FEATURE_DIM, split.heldOut),
    labels: Int32Array.from(split.heldOut, (i) => data.labels[i]!),
  };

  const model = buildMlp(config);
  model.compile({ optimizer: tf.train.adam(config.learningRate), loss: 'categoricalCrossentropy' });
  const random = rng(config.seed ^ 0x5eed);
  const n = train.labels.length;
  const order = [...Array(n).keys()];
  const losses: number[] = [];
  const t0 = performance.now();
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    shuffleInPlace(order, random);
    let sum = 0;
    let batches = 0;
    for (let first = 0; first < n; first += config.batchSize) {
      const idx = order.slice(first, first + config.batchSize);
      const x = tf.tensor2d(gatherRows(train.inputs, FEATURE_DIM, idx), [idx.length, FEATURE_DIM]);
      const y = tf.oneHot(
        tf.tensor1d(
          Int32Array.from(idx, (i) => train.labels[i]!),
          'int32',
        ),
        CLASSES.length,
      );
      sum += (await model.trainOnBatch(x, y)) as number;
      tf.dispose([x, y]);
      batches++;
    }
    losses.push(sum / batches);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const heldOutProbabilities = predictProbabilities(model, heldOut.inputs);
  return {
    model,
    weights: mlpWeights(model),
    config,
    configHash: configHash(config),
    datasetHash: data.datasetHash,
    metrics: binaryMetrics(heldOutProbabilities, heldOut.labels),
    losses,
    trainSeconds,
    heldOut,
    train,
    heldOutProbabilities,
    heldOutTexts: split.heldOut.map((i) => data.postings[i]!),
    dataset: {
      rows: data.labels.length,
      rejected: data.rejected,
      files: data.files,
      perClass: CLASSES.map((_, c) => data.labels.filter((l) => l === c).length),
    },
  };
}
