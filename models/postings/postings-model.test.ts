/**
 * Postings classifier (Model A) on the real Glassdoor 2020 files: accuracy, determinism, ONNX-vs-tfjs parity, INT8,
 * fp16 and a deliberately broken variant that must fail parity. One training is cached for the file (beforeAll);
 * the determinism test trains a second time.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dataDir } from '../../test/data-dir.ts';
import { FEATURE_DIM, PREPROCESSING } from './features.ts';
import { convertToFloat16, decodeModel, FOLD_DEQUANTIZE_SESSION_OPTIONS, mapFloatInitializers } from './quantize.ts';
import { compareProbabilities, createSession, runOnnx } from './parity.ts';
import { postingsClassifier, toTrainedModel } from './postings-model.ts';
import { canonicalJson, sha256 } from '../registry/lineage.ts';
import {
  binaryMetrics,
  DEFAULT_POSTINGS_CONFIG,
  predictProbabilities,
  trainPostingsModel,
  type PostingsTrainResult,
} from './train.ts';
import type { TrainedModel } from '../model-contract.ts';
import { DataType } from '../onnx/builder.ts';

let result: PostingsTrainResult;
let trained: TrainedModel;
let onnxProbs: Float32Array;

const fmt = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`)
    .join(' ');

beforeAll(async () => {
  result = await trainPostingsModel(DEFAULT_POSTINGS_CONFIG, dataDir());
  trained = toTrainedModel(result);
  onnxProbs = await runOnnx(trained.onnx, trained.heldOut.inputs, trained.heldOut.shape);
  console.log(
    `[postings] rows=${result.dataset.rows} perClass=${result.dataset.perClass} ` +
      `rejected=${result.dataset.rejected} train ${result.trainSeconds.toFixed(1)}s ` +
      `losses=${result.losses.map((l) => l.toFixed(4)).join(',')}`,
  );
  console.log(`[postings] held-out metrics: ${fmt(trained.metrics)}`);
});

describe('postings classifier (Model A)', () => {
  it('reaches > 85 % held-out accuracy and reports P/R/F1/ECE, lineage hashes', () => {
    expect(trained.metrics.accuracy).toBeGreaterThan(0.85);
    for (const k of ['precision', 'recall', 'f1', 'ece']) expect(Number.isFinite(trained.metrics[k])).toBe(true);
    expect(trained.metrics.ece).toBeLessThan(0.1);
    expect(trained.datasetHash).toMatch(/^[0-9a-f]{64}$/);
    expect(trained.configHash).toMatch(/^[0-9a-f]{64}$/);
    expect(trained.heldOut.shape).toEqual([trained.heldOut.labels.length, FEATURE_DIM]);
    expect(trained.calibration.shape).toEqual([256, FEATURE_DIM]);
    expect(new Set(trained.calibration.labels)).toEqual(new Set([0, 1]));
    // stratified: both classes in held-out at ~the same ratio as the data
    const ones = trained.heldOut.labels.reduce((a, b) => a + b, 0);
    expect(
      Math.abs(ones / trained.heldOut.labels.length - result.dataset.perClass[1]! / result.dataset.rows),
    ).toBeLessThan(0.01);
  });

  it('is deterministic: a second training with the same seed gives identical weights and metrics', async () => {
    const again = await trainPostingsModel(DEFAULT_POSTINGS_CONFIG, dataDir());
    expect(again.metrics).toEqual(result.metrics);
    expect(again.losses).toEqual(result.losses);
    expect(again.datasetHash).toBe(result.datasetHash);
    expect(again.configHash).toBe(result.configHash);
    expect(Buffer.from(again.weights.w1.buffer).equals(Buffer.from(result.weights.w1.buffer))).toBe(true);
    expect(Buffer.from(again.heldOutProbabilities.buffer).equals(Buffer.from(result.heldOutProbabilities.buffer))).toBe(
      true,
    );
    again.model.dispose();
    // the configHash is over the canonical config: key order does not matter, a different seed does
    expect(sha256(canonicalJson(Object.fromEntries(Object.entries(DEFAULT_POSTINGS_CONFIG).reverse())))).toBe(
      trained.configHash,
    );
    expect(sha256(canonicalJson({ ...DEFAULT_POSTINGS_CONFIG, seed: 43 }))).not.toBe(trained.configHash);
  });

  it('ONNX export: metadata and probabilities within 1e-4 of tfjs on the whole held-out set', () => {
    const meta = Object.fromEntries((decodeModel(trained.onnx).metadataProps ?? []).map((e) => [e.key, e.value]));
    expect(meta['driftline.preprocessing']).toBe(PREPROCESSING);
    expect(meta['driftline.feature_dim']).toBe(String(FEATURE_DIM));
    expect(JSON.parse(meta['driftline.classes']!)).toEqual(['software_engineering', 'data_science']);
    const parity = compareProbabilities(trained.frameworkProbabilities, onnxProbs, { absTol: 1e-4, meanTol: 1e-5 });
    console.log(`[postings] fp32 ONNX vs tfjs: ${parity.message}`);
    expect(parity.ok, parity.message).toBe(true);
    // rows sum to 1
    for (let i = 0; i < onnxProbs.length; i += 2)
      expect(Math.abs(onnxProbs[i]! + onnxProbs[i + 1]! - 1)).toBeLessThan(1e-5);
  });

  it('INT8 weight quantization passes parity (0.04 / 0.01) and keeps ≥ 99 % of fp32 accuracy', async () => {
    const int8 = postingsClassifier.quantizeInt8(trained.onnx, trained.calibration);
    const probs = await runOnnx(int8, trained.heldOut.inputs, trained.heldOut.shape);
    const parity = compareProbabilities(onnxProbs, probs, { absTol: 0.04, meanTol: 0.01 });
    const m = binaryMetrics(probs, trained.heldOut.labels);
    console.log(
      `[postings] int8: ${parity.message}; accuracy ${m.accuracy.toFixed(4)} vs ` +
        `fp32 ${trained.metrics.accuracy!.toFixed(4)}; size ${int8.length} vs ${trained.onnx.length} bytes`,
    );
    expect(parity.ok, parity.message).toBe(true);
    expect(m.accuracy).toBeGreaterThanOrEqual(0.99 * trained.metrics.accuracy!);
    expect(int8.length).toBeLessThan(trained.onnx.length / 3);
    // folding DequantizeLinear at load (the fast path on ORT CPU) passes too. The two sessions differ by ~1e-3: by
    // default ORT fuses the small DequantizeLinear→MatMul (W2) into MatMulNBits, which also quantizes activations.
    const session = await createSession(int8, FOLD_DEQUANTIZE_SESSION_OPTIONS);
    const folded = await runOnnx(int8, trained.heldOut.inputs, trained.heldOut.shape, { session });
    await session.release();
    const foldedParity = compareProbabilities(onnxProbs, folded, { absTol: 0.04, meanTol: 0.01 });
    console.log(`[postings] int8 with folded DequantizeLinear: ${foldedParity.message}`);
    expect(foldedParity.ok, foldedParity.message).toBe(true);
    expect(binaryMetrics(folded, trained.heldOut.labels).accuracy).toBeGreaterThanOrEqual(
      0.99 * trained.metrics.accuracy!,
    );
    const ops = decodeModel(int8).graph!.node!.map((n) => n.opType);
    expect(ops.filter((o) => o === 'DequantizeLinear')).toHaveLength(2);
  });

  it('a broken variant (output weights ×1.5, noisy hidden weights) FAILS parity with a clear message', async () => {
    let s = 12345;
    const noise = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s / 2 ** 32 - 0.5) * 0.02;
    };
    const broken = mapFloatInitializers(trained.onnx, ['W1', 'W2'], (v, name) =>
      name === 'W2' ? v.map((x) => x * 1.5) : v.map((x) => x + noise()),
    );
    const probs = await runOnnx(broken, trained.heldOut.inputs, trained.heldOut.shape);
    const parity = compareProbabilities(onnxProbs, probs, { absTol: 0.04, meanTol: 0.01 });
    console.log(`[postings] broken variant: ${parity.message}`);
    expect(parity.ok).toBe(false);
    expect(parity.message).toMatch(/FAILED: max abs diff .* exceeds absTol 0.04 by/);
  });

  it('fp16: runs on the ONNX Runtime CPU provider and passes parity, or is documented as unsupported', async () => {
    const fp16 = postingsClassifier.toFloat16
      ? postingsClassifier.toFloat16(trained.onnx)
      : convertToFloat16(trained.onnx);
    let probs: Float32Array | undefined;
    let error: string | undefined;
    try {
      probs = await runOnnx(fp16, trained.heldOut.inputs, trained.heldOut.shape);
    } catch (err) {
      error = (err as Error).message;
    }
    if (postingsClassifier.toFloat16 === undefined) {
      console.log(`[postings] fp16 not offered: ${error ?? 'ran, but toFloat16 is undefined'}`);
      expect(error ?? '').toMatch(/NOT_IMPLEMENTED|Could not find an implementation/);
    } else {
      expect(error).toBeUndefined();
      const parity = compareProbabilities(onnxProbs, probs!, { absTol: 0.01, meanTol: 0.002 });
      const m = binaryMetrics(probs!, trained.heldOut.labels);
      console.log(`[postings] fp16: ${parity.message}; accuracy ${m.accuracy.toFixed(4)}; size ${fp16.length} bytes`);
      expect(parity.ok, parity.message).toBe(true);
      expect(m.accuracy).toBeGreaterThanOrEqual(0.99 * trained.metrics.accuracy!);
      const model = decodeModel(fp16);
      expect(model.graph!.initializer!.every((t) => t.dataType === DataType.FLOAT16)).toBe(true);
      expect(model.graph!.node!.filter((n) => n.opType === 'Cast')).toHaveLength(2);
    }
  });

  it('tfjs predictions are stable across calls (serving = training code path)', () => {
    const again = predictProbabilities(result.model, trained.heldOut.inputs);
    expect(again).toEqual(trained.frameworkProbabilities);
  });
});
