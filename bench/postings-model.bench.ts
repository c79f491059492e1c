/**
 * Postings classifier (Model A) throughput on the real Glassdoor 2020 postings:
 *   - featurization (title + description → FEATURE_DIM row, features.ts), postings/s, single thread;
 *   - ONNX Runtime inference, fp32 and int8 (and fp16-stored weights), at batch 1, 8, 32, 256: items/s
 *     (median/min/max over repetitions) and per-call latency p50/p99;
 *   - tfjs (wasm backend) inference of the same trained model at the same batches.
 * The model is trained first (default config, ~10 s). Inputs are already featurized (featurization is measured
 * separately). ONNX sessions: intra-op threads = INTRA (default 1; `--threads 2` for both cores).
 * Target on 2 cores: ≥ 20,000 postings/s featurization, ≥ 50,000 predictions/s at batch 256.
 *   npx tsx bench/postings-model.bench.ts [--quick] [--threads N]
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { FEATURE_DIM, featurizeBatch } from '../models/postings/features.ts';
import { postingsClassifier, toTrainedModel } from '../models/postings/postings-model.ts';
import { FOLD_DEQUANTIZE_SESSION_OPTIONS } from '../models/postings/quantize.ts';
import {
  DEFAULT_POSTINGS_CONFIG,
  loadPostingsDataset,
  trainPostingsModel,
  useBackend,
} from '../models/postings/train.ts';
import { dataDir } from '../test/data-dir.ts';
import { formatSpread, spread } from './stats.ts';

const quick = process.argv.includes('--quick');
const threadsArg = process.argv.indexOf('--threads');
const INTRA = threadsArg >= 0 ? Number(process.argv[threadsArg + 1]) : 1;
const REPS = quick ? 3 : 5;
const BATCHES = [1, 8, 32, 256];
/** Items per repetition at each batch size (so each repetition takes a comparable time). */
const ITEMS_PER_REP = quick ? 2048 : 8192;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

// --- featurization ---------------------------------------------------------------------------------------------------
const data = await loadPostingsDataset(dataDir());
const postings = data.postings;
const chunk = 256;
const buf = new Float32Array(chunk * FEATURE_DIM);
const featRun = () => {
  const t0 = performance.now();
  for (let first = 0; first < postings.length; first += chunk)
    featurizeBatch(postings.slice(first, first + chunk), buf);
  return postings.length / ((performance.now() - t0) / 1000);
};
featRun();
const featRates = Array.from({ length: REPS }, featRun);
const avgChars = postings.reduce((n, p) => n + p.title.length + p.description.length, 0) / postings.length;
console.log(
  `postings model bench: ${postings.length} Glassdoor postings (avg ${Math.round(avgChars)} chars), ` +
    `FEATURE_DIM ${FEATURE_DIM}, ort intra-op threads ${INTRA}`,
);
console.log(`  featurize                ${formatSpread(spread(featRates), ' postings/s')}`);

// --- model -----------------------------------------------------------------------------------------------------------
const trainedRun = await trainPostingsModel(DEFAULT_POSTINGS_CONFIG, dataDir());
const trained = toTrainedModel(trainedRun);
console.log(
  `  trained in ${trainedRun.trainSeconds.toFixed(1)} s, held-out accuracy ${trained.metrics.accuracy!.toFixed(4)}`,
);
const inputs = featurizeBatch(postings.slice(0, 256 + 255)); // enough distinct rows for any batch offset

interface Row {
  rates: number[];
  latencies: number[];
}

async function measure(run: (x: Float32Array, b: number) => Promise<void> | void, batch: number): Promise<Row> {
  const calls = Math.max(1, Math.round(ITEMS_PER_REP / batch));
  const rates: number[] = [];
  const latencies: number[] = [];
  for (let i = 0; i < Math.min(calls, 20); i++) await run(inputs.subarray(0, batch * FEATURE_DIM), batch); // warm-up
  for (let rep = 0; rep < REPS; rep++) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) {
      const off = (c % 256) * FEATURE_DIM;
      const s = performance.now();
      await run(inputs.subarray(off, off + batch * FEATURE_DIM), batch);
      latencies.push(performance.now() - s);
    }
    rates.push((calls * batch) / ((performance.now() - t0) / 1000));
  }
  return { rates, latencies };
}

function report(label: string, batch: number, row: Row) {
  const sorted = [...row.latencies].sort((a, b) => a - b);
  console.log(
    `  ${label.padEnd(10)} batch ${String(batch).padStart(3)} ` +
      ` ${formatSpread(spread(row.rates), ' items/s').padEnd(52)} latency p50 ${pct(sorted, 0.5).toFixed(3)} ms, ` +
      `p99 ${pct(sorted, 0.99).toFixed(3)} ms`,
  );
}

const int8 = postingsClassifier.quantizeInt8(trained.onnx, trained.calibration);
const variants: [string, Uint8Array, ort.InferenceSession.SessionOptions][] = [
  ['onnx fp32', trained.onnx, {}],
  ['onnx int8', int8, {}],
  // DequantizeLinear(W) folded to fp32 at load (session.disable_quant_qdq): int8 file, fp32 compute
  ['int8 fold', int8, FOLD_DEQUANTIZE_SESSION_OPTIONS],
];
if (postingsClassifier.toFloat16) variants.push(['onnx fp16', postingsClassifier.toFloat16(trained.onnx), {}]);
console.log(`  model sizes: fp32 ${trained.onnx.length} B, int8 ${int8.length} B`);
for (const [label, bytes, extra] of variants) {
  const session = await ort.InferenceSession.create(bytes, {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: INTRA,
    interOpNumThreads: 1,
    ...extra,
  });
  for (const batch of BATCHES) {
    const row = await measure(async (x, b) => {
      const out = await session.run({ input: new ort.Tensor('float32', x, [b, FEATURE_DIM]) });
      out.probabilities!.dispose();
    }, batch);
    report(label, batch, row);
  }
  await session.release();
}

await useBackend('wasm');
const model = trainedRun.model;
for (const batch of BATCHES) {
  const row = await measure((x, b) => {
    const p = tf.tidy(() => model.predict(tf.tensor2d(x, [b, FEATURE_DIM])) as tf.Tensor);
    p.dataSync();
    p.dispose();
  }, batch);
  report('tfjs wasm', batch, row);
}
