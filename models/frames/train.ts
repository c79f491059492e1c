/**
 * The frame CNN in tfjs: conv 3x3 -> relu -> maxpool 2 -> conv 3x3 -> relu -> maxpool 2 -> flatten -> dense softmax,
 * NHWC, 'valid' padding (so the ONNX export needs no pads). Trained with Adam in a hand-written epoch loop:
 * glorot-uniform kernels seeded per layer, zero biases, a seeded shuffle per epoch, no dropout, so the same
 * config and data give bit-identical weights and metrics.
 *
 * Training runs on the tfjs 'cpu' backend: the wasm backend has no Conv2DBackpropFilter/Input kernels
 * (tfjs 4.22), so it can only serve. The trained weights are plain tensors and move to wasm for inference.
 */
import { accuracy, argmax, expectedCalibrationError } from '../classification-metrics.ts';
import { predictInChunks, useBackend } from '../tfjs-runtime.ts';
import * as tf from '@tensorflow/tfjs';
import { rng, shuffleInPlace } from '../seeded-random.ts';
import type { FrameDataset } from './dataset.ts';

export interface CnnConfig {
  size: number;
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Output channels of the two conv layers. */
  filters: [number, number];
  /** Learning-rate schedule over all steps: constant, or cosine from learningRate down to 5 % of it. */
  schedule: 'constant' | 'cosine';
}

export const DEFAULT_CNN_CONFIG: CnnConfig = {
  size: 48,
  seed: 7,
  epochs: 20,
  batchSize: 32,
  learningRate: 0.004,
  filters: [8, 24],
  schedule: 'cosine',
};

export { useBackend };

export function buildCnn(config: CnnConfig, classes: number): tf.Sequential {
  const { size, seed, filters } = config;
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 101 + k });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [size, size, 1],
        filters: filters[0],
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: init(1),
        biasInitializer: 'zeros',
        name: 'conv1',
      }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tf.layers.conv2d({
        filters: filters[1],
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: init(2),
        biasInitializer: 'zeros',
        name: 'conv2',
      }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({
        units: classes,
        activation: 'softmax',
        kernelInitializer: init(3),
        biasInitializer: 'zeros',
        name: 'dense',
      }),
    ],
  });
}

export interface TrainResult {
  /** The trained network as a standard tfjs layers model (conv2d/maxPooling2d/flatten/dense). */
  model: tf.Sequential;
  losses: number[];
  trainSeconds: number;
}

/** Sizes of the activations of the network for an input of side `size`. */
export function cnnShapes(size: number, filters: [number, number]) {
  const h1 = size - 2;
  const p1 = Math.floor(h1 / 2);
  const h2 = p1 - 2;
  const p2 = Math.floor(h2 / 2);
  return { h1, p1, h2, p2, flat: p2 * p2 * filters[1] };
}

/**
 * Forward and backward pass of the network for one batch, in plain typed-array loops, same layouts as tfjs
 * (activations HWC per image, kernels HWIO, dense [flat, classes] over the NHWC flatten). Accumulates the gradients
 * of the mean cross-entropy into `grads`; returns the summed loss.
 */
function batchGradients(
  w: Float32Array[],
  grads: Float32Array[],
  inputs: Float32Array,
  labels: Int32Array,
  idx: number[],
  size: number,
  filters: [number, number],
  k: number,
): number {
  const [f1, f2] = filters;
  const { h1, p1, h2, p2, flat } = cnnShapes(size, filters);
  const [W1, B1, W2, B2, W3, B3] = w as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const [G1, GB1, G2, GB2, G3, GB3] = grads as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const a1 = new Float32Array(h1 * h1 * f1);
  const q1 = new Float32Array(p1 * p1 * f1);
  const arg1 = new Int32Array(p1 * p1 * f1);
  const a2 = new Float32Array(h2 * h2 * f2);
  const q2 = new Float32Array(flat);
  const arg2 = new Int32Array(flat);
  const logits = new Float64Array(k);
  const dq2 = new Float32Array(flat);
  const da2 = new Float32Array(h2 * h2 * f2);
  const dq1 = new Float32Array(p1 * p1 * f1);
  const da1 = new Float32Array(h1 * h1 * f1);
  const scale = 1 / idx.length;
  let lossSum = 0;
  for (const item of idx) {
    const x = inputs.subarray(item * size * size, (item + 1) * size * size);
    // conv1 + relu
    for (let y = 0; y < h1; y++)
      for (let xx = 0; xx < h1; xx++) {
        const base = (y * h1 + xx) * f1;
        for (let o = 0; o < f1; o++) a1[base + o] = B1[o]!;
        for (let kh = 0; kh < 3; kh++)
          for (let kw = 0; kw < 3; kw++) {
            const v = x[(y + kh) * size + xx + kw]!;
            const wb = (kh * 3 + kw) * f1;
            for (let o = 0; o < f1; o++) a1[base + o]! += v * W1[wb + o]!;
          }
        for (let o = 0; o < f1; o++) if (a1[base + o]! < 0) a1[base + o] = 0;
      }
    maxPool(a1, h1, f1, p1, q1, arg1);
    // conv2 + relu
    for (let y = 0; y < h2; y++)
      for (let xx = 0; xx < h2; xx++) {
        const base = (y * h2 + xx) * f2;
        for (let o = 0; o < f2; o++) a2[base + o] = B2[o]!;
        for (let kh = 0; kh < 3; kh++)
          for (let kw = 0; kw < 3; kw++) {
            const ib = ((y + kh) * p1 + xx + kw) * f1;
            for (let i = 0; i < f1; i++) {
              const v = q1[ib + i]!;
              if (v === 0) continue;
              const wb = ((kh * 3 + kw) * f1 + i) * f2;
              for (let o = 0; o < f2; o++) a2[base + o]! += v * W2[wb + o]!;
            }
          }
        for (let o = 0; o < f2; o++) if (a2[base + o]! < 0) a2[base + o] = 0;
      }
    maxPool(a2, h2, f2, p2, q2, arg2);
    // dense + softmax cross-entropy
    let maxLogit = -Infinity;
    for (let c = 0; c < k; c++) {
      let acc = B3[c]!;
      for (let j = 0; j < flat; j++) acc += q2[j]! * W3[j * k + c]!;
      logits[c] = acc;
      if (acc > maxLogit) maxLogit = acc;
    }
    let z = 0;
    for (let c = 0; c < k; c++) z += Math.exp(logits[c]! - maxLogit);
    const label = labels[item]!;
    lossSum += -(logits[label]! - maxLogit - Math.log(z));
    // backward
    dq2.fill(0);
    for (let c = 0; c < k; c++) {
      const d = (Math.exp(logits[c]! - maxLogit) / z - (c === label ? 1 : 0)) * scale;
      GB3[c]! += d;
      for (let j = 0; j < flat; j++) {
        G3[j * k + c]! += q2[j]! * d;
        dq2[j]! += W3[j * k + c]! * d;
      }
    }
    da2.fill(0);
    for (let j = 0; j < flat; j++) if (a2[arg2[j]!]! > 0) da2[arg2[j]!] = dq2[j]!;
    dq1.fill(0);
    for (let y = 0; y < h2; y++)
      for (let xx = 0; xx < h2; xx++) {
        const base = (y * h2 + xx) * f2;
        let any = false;
        for (let o = 0; o < f2; o++) if (da2[base + o] !== 0) any = true;
        if (!any) continue;
        for (let o = 0; o < f2; o++) GB2[o]! += da2[base + o]!;
        for (let kh = 0; kh < 3; kh++)
          for (let kw = 0; kw < 3; kw++) {
            const ib = ((y + kh) * p1 + xx + kw) * f1;
            for (let i = 0; i < f1; i++) {
              const v = q1[ib + i]!;
              const wb = ((kh * 3 + kw) * f1 + i) * f2;
              let acc = 0;
              for (let o = 0; o < f2; o++) {
                const d = da2[base + o]!;
                G2[wb + o]! += v * d;
                acc += W2[wb + o]! * d;
              }
              dq1[ib + i]! += acc;
            }
          }
      }
    da1.fill(0);
    for (let j = 0; j < dq1.length; j++) if (a1[arg1[j]!]! > 0) da1[arg1[j]!] = dq1[j]!;
    for (let y = 0; y < h1; y++)
      for (let xx = 0; xx < h1; xx++) {
        const base = (y * h1 + xx) * f1;
        for (let o = 0; o < f1; o++) {
          const d = da1[base + o]!;
          if (d === 0) continue;
          GB1[o]! += d;
          for (let kh = 0; kh < 3; kh++)
            for (let kw = 0; kw < 3; kw++) G1[(kh * 3 + kw) * f1 + o]! += d * x[(y + kh) * size + xx + kw]!;
        }
      }
  }
  return lossSum;
}

/** 2x2 stride-2 'valid' max pool over an HWC map of side h; records the argmax (flat index into src). */
function maxPool(src: Float32Array, h: number, c: number, p: number, dst: Float32Array, arg: Int32Array): void {
  for (let y = 0; y < p; y++)
    for (let x = 0; x < p; x++)
      for (let o = 0; o < c; o++) {
        let best = -Infinity;
        let at = 0;
        for (let dy = 0; dy < 2; dy++)
          for (let dx = 0; dx < 2; dx++) {
            const i = ((2 * y + dy) * h + 2 * x + dx) * c + o;
            if (src[i]! > best) {
              best = src[i]!;
              at = i;
            }
          }
        dst[(y * p + x) * c + o] = best;
        arg[(y * p + x) * c + o] = at;
      }
}

/**
 * Trains the CNN. tfjs cannot train it fast here: the wasm backend has no conv gradient kernels and the 'cpu'
 * backend's Conv2DBackpropFilter/Input are naive (measured ~1.5 s per batch of 32 at 32x32 on this 2-core box,
 * ~70 s an epoch; an im2col+matMul formulation still took ~38 s an epoch). So the forward/backward pass is written
 * out in typed-array loops above (~1 GMAC an epoch), with Adam as tfjs defines it (beta1 0.9, beta2 0.999,
 * epsilon 1e-7). Initial weights come from the seeded tfjs layers model and the trained ones go back into it: the
 * tfjs model is what is evaluated, exported and served.
 */
export async function trainCnn(data: FrameDataset, config: CnnConfig): Promise<TrainResult> {
  await useBackend('cpu');
  const { size, batchSize, epochs, filters } = config;
  const k = data.classes.length;
  const n = data.train.labels.length;
  const model = buildCnn(config, k);
  const weights = model.getWeights().map((t) => Float32Array.from(t.dataSync()));
  const shapes = model.getWeights().map((t) => t.shape);
  const grads = weights.map((w) => new Float32Array(w.length));
  const m1 = weights.map((w) => new Float32Array(w.length));
  const m2 = weights.map((w) => new Float32Array(w.length));
  const lr = config.learningRate;
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-7;
  let step = 0;
  const totalSteps = epochs * Math.ceil(n / batchSize);
  const random = rng(config.seed ^ 0x5eed);
  const order = [...Array(n).keys()];
  const losses: number[] = [];
  const t0 = performance.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffleInPlace(order, random);
    let sum = 0;
    for (let first = 0; first < n; first += batchSize) {
      const idx = order.slice(first, first + batchSize);
      grads.forEach((g) => {
        g.fill(0);
      });
      sum += batchGradients(weights, grads, data.train.inputs, data.train.labels, idx, size, filters, k);
      step++;
      const c1 = 1 - beta1 ** step;
      const c2 = 1 - beta2 ** step;
      const rate =
        config.schedule === 'cosine'
          ? lr * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * (step - 1)) / totalSteps)))
          : lr;
      weights.forEach((w, l) => {
        const g = grads[l]!;
        const a = m1[l]!;
        const b = m2[l]!;
        for (let i = 0; i < w.length; i++) {
          a[i] = beta1 * a[i]! + (1 - beta1) * g[i]!;
          b[i] = beta2 * b[i]! + (1 - beta2) * g[i]! * g[i]!;
          w[i]! -= (rate * (a[i]! / c1)) / (Math.sqrt(b[i]! / c2) + eps);
        }
      });
    }
    losses.push(sum / n);
    // Let the event loop breathe between epochs (timers, test runner heartbeats).
    await new Promise((r) => setImmediate(r));
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  model.setWeights(weights.map((w, l) => tf.tensor(w, shapes[l]!)));
  return { model, losses, trainSeconds };
}

/** Class probabilities for NHWC rows (row-major [n, size, size]). */
export function predictProbabilities(
  model: tf.LayersModel,
  inputs: Float32Array,
  size: number,
  chunk = 256,
): Float32Array {
  return predictInChunks(model, inputs, [size, size, 1], chunk);
}

export interface ClassMetrics {
  accuracy: number;
  ece: number;
  macroF1: number;
  perClassAccuracy: Record<string, number>;
}

/** Accuracy, per-class accuracy (= recall), macro F1 and 10-bin expected calibration error (top-1 confidence). */
export function evaluateProbabilities(
  probs: Float32Array,
  labels: Int32Array,
  classes: string[],
  bins = 10,
): ClassMetrics {
  const k = classes.length;
  const correctPerClass = new Array<number>(k).fill(0);
  const countPerClass = new Array<number>(k).fill(0);
  const predictedPerClass = new Array<number>(k).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const best = argmax(probs, i, k);
    countPerClass[labels[i]!]!++;
    if (best === labels[i]) correctPerClass[labels[i]!]!++;
    predictedPerClass[best]!++;
  }
  const perClassAccuracy: Record<string, number> = {};
  let f1Sum = 0;
  classes.forEach((name, c) => {
    const recall = countPerClass[c] ? correctPerClass[c]! / countPerClass[c]! : 0;
    const precision = predictedPerClass[c] ? correctPerClass[c]! / predictedPerClass[c]! : 0;
    perClassAccuracy[name] = recall;
    f1Sum += precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  });
  return {
    accuracy: accuracy(probs, labels, k),
    ece: expectedCalibrationError(probs, labels, k, bins),
    macroF1: f1Sum / k,
    perClassAccuracy,
  };
}
