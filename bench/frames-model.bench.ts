/**
 * Frame CNN inference throughput: ONNX Runtime (fp32, static INT8 QDQ, fp16) and tfjs on the wasm backend, at
 * batch 1, 8, 32, 256 over real NEU-DET held-out frames (already preprocessed; decode cost is in
 * frames-decode.bench.ts). Trains the default model first (deterministic, ~1-2 min on 2 cores).
 * Per configuration: per-batch latency p50/p99 over the timed batches, and items/s median/min/max over REPS
 * repetitions (`bench/stats.ts`). Target: >= 300 frames/s at batch 32.
 *   npx tsx bench/frames-model.bench.ts            (data: DRIFTLINE_DATA_DIR or ../shared/data)
 */
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { dataDir } from '../test/data-dir.ts';
import { DEFAULT_FRAMES_CONFIG, framesCnn, trainFrames } from '../models/frames/frames-model.ts';
import { useBackend } from '../models/frames/train.ts';
import { formatSpread, spread } from './stats.ts';

const REPS = 5;
const BATCHES = [1, 8, 32, 256];
/** Frames per repetition (per batch size): enough batches for a p99 at small batch sizes. */
const ITEMS = Number(process.env.FRAMES_BENCH_ITEMS ?? 1024);

const training = await trainFrames(DEFAULT_FRAMES_CONFIG, dataDir());
const { trained, model } = training;
const size = DEFAULT_FRAMES_CONFIG.size;
const px = size * size;
const heldN = trained.heldOut.labels.length;
console.log(
  `frames CNN ${size}x${size}, held-out accuracy ${(trained.metrics.accuracy! * 100).toFixed(1)} %, trained ` +
    `in ${training.trainSeconds.toFixed(1)} s`,
);

/** A batch of `b` frames starting at held-out row `first` (wrapping). */
function batchInputs(first: number, b: number): Float32Array {
  const out = new Float32Array(b * px);
  for (let i = 0; i < b; i++) {
    const r = (first + i) % heldN;
    out.set(trained.heldOut.inputs.subarray(r * px, (r + 1) * px), i * px);
  }
  return out;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function bench(name: string, infer: (x: Float32Array, b: number) => Promise<void>): Promise<void> {
  for (const b of BATCHES) {
    const nBatches = Math.max(4, Math.ceil(ITEMS / b));
    const inputs = Array.from({ length: nBatches }, (_, i) => batchInputs(i * b, b));
    await infer(inputs[0]!, b); // warm-up
    const rates: number[] = [];
    const latencies: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const t0 = performance.now();
      for (const x of inputs) {
        const s = performance.now();
        await infer(x, b);
        latencies.push(performance.now() - s);
      }
      rates.push((nBatches * b) / ((performance.now() - t0) / 1000));
    }
    latencies.sort((a, c) => a - c);
    console.log(
      `${name.padEnd(14)} batch ${String(b).padStart(3)}: p50 ${percentile(latencies, 50).toFixed(3)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(3)} ms per batch; ${formatSpread(spread(rates), ' frames/s')}`,
    );
  }
}

async function ortInfer(label: string, bytes: Uint8Array): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    console.log(`${label}: ONNX Runtime CPU cannot load it: ${(err as Error).message.split('\n')[0]}`);
    return;
  }
  await bench(label, async (x, b) => {
    await session.run({ input: new ort.Tensor('float32', x, [b, 1, size, size]) });
  });
  await session.release();
}

await ortInfer('onnx fp32', trained.onnx);
await ortInfer('onnx int8', framesCnn.quantizeInt8(trained.onnx, trained.calibration));
await ortInfer('onnx fp16', framesCnn.toFloat16!(trained.onnx));

await useBackend('wasm');
const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as { getThreadsCount?: () => number };
console.log(`tfjs backend ${tf.getBackend()}, threads ${wasm.getThreadsCount?.() ?? 'n/a'}`);
await bench('tfjs wasm', async (x, b) => {
  const y = tf.tidy(() => model.predict(tf.tensor4d(x, [b, size, size, 1])) as tf.Tensor);
  await y.data();
  y.dispose();
});
