/**
 * The frame CNN end to end on real NEU-DET frames: held-out accuracy, determinism, ONNX-vs-tfjs parity, calibrated
 * INT8 and fp16 variants under ONNX Runtime. The model is trained with the default config once per test run
 * (test/shared-models.ts: the first test file that needs it trains it for real, the others reuse that result).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { dataDir } from '../../test/data-dir.ts';
import { trainedOnce } from '../../test/shared-models.ts';
import type { TrainedModel } from '../model-contract.ts';
import { DEFAULT_FRAMES_CONFIG, flatMetrics, framesCnn } from './frames-model.ts';
import { hwioToOihw, oihwToHwio } from './export.ts';
import { toHalfBits } from './quantize.ts';

/** Max and mean absolute difference between two probability matrices. */
function compareProbabilities(a: Float32Array, b: Float32Array): { maxAbs: number; meanAbs: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let maxAbs = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > maxAbs) maxAbs = d;
    sum += d;
  }
  return { maxAbs, meanAbs: sum / a.length };
}

async function runOnnx(
  bytes: Uint8Array,
  inputs: Float32Array,
  shape: number[],
  options: ort.InferenceSession.SessionOptions = {},
): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, options);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', inputs, shape) });
    return out.probabilities!.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('frames CNN (NEU-DET)', () => {
  let trained: TrainedModel;
  let onnxProbs: Float32Array;

  beforeAll(async () => {
    const t0 = performance.now();
    const r = await trainedOnce('frames', dataDir(), DEFAULT_FRAMES_CONFIG);
    trained = r.trained;
    onnxProbs = await runOnnx(trained.onnx, trained.heldOut.inputs, trained.heldOut.shape);
    const how =
      r.trainSeconds === null
        ? 'trained earlier (test/shared-models.ts cache)'
        : `trained in ${r.trainSeconds.toFixed(1)} s`;
    console.log(
      `frames CNN size ${DEFAULT_FRAMES_CONFIG.size}: ${how} ` +
        `(total ${((performance.now() - t0) / 1000).toFixed(1)} s), held-out`,
      trained.metrics,
    );
  }, 900_000);

  it('reaches >= 90 % held-out accuracy on a stratified 20 % split', () => {
    expect(trained.classes).toEqual([
      'crazing',
      'inclusion',
      'patches',
      'pitted_surface',
      'rolled-in_scale',
      'scratches',
    ]);
    expect(trained.heldOut.shape).toEqual([354, 1, DEFAULT_FRAMES_CONFIG.size, DEFAULT_FRAMES_CONFIG.size]);
    // 59 per class held out
    for (let c = 0; c < 6; c++) expect(trained.heldOut.labels.filter((l) => l === c).length).toBe(59);
    expect(trained.calibration.shape[0]).toBe(256);
    expect(trained.metrics.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(trained.metrics.ece).toBeLessThan(0.1);
    expect(trained.datasetHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records the preprocessing contract in the ONNX metadata', () => {
    const model = onnxProto.onnx.ModelProto.decode(trained.onnx);
    const meta = Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key, p.value]));
    expect(meta['driftline.preprocessing']).toBe('frames-gray-v1');
    expect(meta['driftline.frame_size']).toBe(String(DEFAULT_FRAMES_CONFIG.size));
    expect(JSON.parse(meta['driftline.classes']!)).toEqual(trained.classes);
    expect(meta['driftline.dataset_hash']).toBe(trained.datasetHash);
  });

  it('ONNX Runtime matches tfjs on the whole held-out set (max abs diff <= 1e-4)', () => {
    const { maxAbs, meanAbs } = compareProbabilities(onnxProbs, trained.frameworkProbabilities);
    console.log(
      `ONNX vs tfjs: max abs ${maxAbs.toExponential(2)}, mean abs ${meanAbs.toExponential(2)} ` +
        `over ${trained.heldOut.labels.length} frames`,
    );
    expect(maxAbs).toBeLessThanOrEqual(1e-4);
  });

  it('static INT8 (QDQ) stays within 0.04 max / 0.01 mean of fp32 and keeps >= 99 % of its accuracy', async () => {
    const int8 = framesCnn.quantizeInt8(trained.onnx, trained.calibration);
    // The quantization itself: QDQ pairs kept as float ops ('basic' does not fuse them into integer kernels).
    const qdq = compareProbabilities(
      await runOnnx(int8, trained.heldOut.inputs, trained.heldOut.shape, { graphOptimizationLevel: 'basic' }),
      onnxProbs,
    );
    // What runs in production: ORT fuses QDQ into integer kernels (QLinearConv), whose rounding depends on the CPU's
    // instruction set. Measured max abs diff: within 0.04 where this test was written, 0.23 on one frame of an AMD EPYC
    // (where the float QDQ path gives 0.03): so only the mean and the accuracy are held to the parity bounds there.
    const probs = await runOnnx(int8, trained.heldOut.inputs, trained.heldOut.shape);
    const { maxAbs, meanAbs } = compareProbabilities(probs, onnxProbs);
    const acc = flatMetrics(probs, trained.heldOut.labels, trained.classes).accuracy;
    console.log(
      `INT8 vs fp32: QDQ as float ops max abs ${qdq.maxAbs.toFixed(4)}, mean ${qdq.meanAbs.toFixed(5)}; integer ` +
        `kernels max abs ${maxAbs.toFixed(4)}, mean abs ${meanAbs.toFixed(5)}, accuracy ${acc.toFixed(4)} ` +
        `vs ${trained.metrics.accuracy!.toFixed(4)}; ${int8.length} vs ${trained.onnx.length} bytes`,
    );
    expect(qdq.maxAbs).toBeLessThanOrEqual(0.04);
    expect(qdq.meanAbs).toBeLessThanOrEqual(0.01);
    expect(meanAbs).toBeLessThanOrEqual(0.01);
    expect(acc).toBeGreaterThanOrEqual(0.99 * trained.metrics.accuracy!);
  });

  it('fp16 variant runs on the ONNX Runtime CPU provider and tracks fp32', async () => {
    const fp16 = framesCnn.toFloat16!(trained.onnx);
    const probs = await runOnnx(fp16, trained.heldOut.inputs, trained.heldOut.shape);
    const { maxAbs, meanAbs } = compareProbabilities(probs, onnxProbs);
    const acc = flatMetrics(probs, trained.heldOut.labels, trained.classes).accuracy;
    console.log(
      `fp16 vs fp32: max abs ${maxAbs.toExponential(2)}, mean abs ${meanAbs.toExponential(2)}, ` +
        `accuracy ${acc.toFixed(4)}`,
    );
    expect(maxAbs).toBeLessThanOrEqual(0.01);
    expect(acc).toBeGreaterThanOrEqual(0.99 * trained.metrics.accuracy!);
  });

  it('is deterministic: the same seed gives the same metrics and the same ONNX bytes (1-epoch runs)', async () => {
    const config = { ...DEFAULT_FRAMES_CONFIG, epochs: 1 };
    const a = await framesCnn.train(config, dataDir());
    const b = await framesCnn.train(config, dataDir());
    expect(a.metrics).toEqual(b.metrics);
    expect(Buffer.from(a.onnx).equals(Buffer.from(b.onnx))).toBe(true);
    expect(a.configHash).toBe(b.configHash);
    expect(a.configHash).not.toBe(trained.configHash);
  });
});

describe('frames export helpers', () => {
  it('HWIO <-> OIHW round-trips and puts [o][i][h][w] where tfjs has [h][w][i][o]', () => {
    const w = Float32Array.from({ length: 3 * 3 * 2 * 4 }, (_, i) => i);
    const o = hwioToOihw(w, 3, 3, 2, 4);
    expect(o[((3 * 2 + 1) * 3 + 2) * 3 + 0]).toBe(w[((2 * 3 + 0) * 2 + 1) * 4 + 3]);
    expect(oihwToHwio(o, 3, 3, 2, 4)).toEqual(w);
  });

  it('fp16 bits', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(1e6)).toBe(0x7c00);
    expect(toHalfBits(2 ** -24)).toBe(1);
  });
});
