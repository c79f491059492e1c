/**
 * The `infer` sweep: operator throughput and inference-batch latency for a dense classifier of realistic size
 * (8192 → 64 → ReLU → 2 → softmax, ~0.5 M multiply-adds per item), at inference batch sizes 1, 8, 32, 256 with 1 and
 * 2 inference threads (intra-op threads: 1 per session). The stage is driven directly (no transport): each call
 * hands it an input batch of 1024 records, which it splits into inference batches of `batch` rows that
 * the threads take in parallel. 1 warm-up + 5 repetitions per configuration; prints median/min/max items/s and the
 * median/min/max over repetitions of each run's p50 and p99 inference-batch latency (round trip: transfer to the
 * thread, NaN/Infinity check, session.run, transfer back). The last rows repeat batch 256 with `checkFinite: false`.
 *   npx tsx bench/infer.bench.ts --sweep
 * (this file; infer.bench.ts without --sweep compares with raw onnxruntime-node)
 */
import { denseModel, randomDense } from '../models/infer/dense-model.ts';
import { type Inferred, infer } from '../operators/infer/infer.ts';
import type { StreamRecord } from '../streams/kernel/record.ts';
import type { StageOutput } from '../streams/kernel/stage.ts';
import { formatSpread, spread } from './stats.ts';

const REPS = 5;
const SIZES = [8192, 64, 2];
const BATCHES = [1, 8, 32, 256];
const THREADS = [1, 2];
/** Items per repetition: enough for ~0.3 s of work at the larger batch sizes. */
const itemsFor = (batch: number) => (batch === 1 ? 1024 : 4096);

const bytes = denseModel({ sizes: SIZES, layers: randomDense(SIZES, 42) });
const rows = Array.from({ length: 256 }, (_, r) =>
  Float32Array.from({ length: SIZES[0]! }, (_, k) => Math.sin(r * 0.1 + k * 0.01)),
);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(batch: number, threads: number, checkFinite = true) {
  const stage = infer<Float32Array>('bench', {
    models: [{ id: 'dense' }],
    featureShape: [SIZES[0]!],
    maxBatch: batch,
    threads,
    intraOpNumThreads: 1,
    checkFinite,
    toInput: (x) => x,
    resolveModel: async () => ({ id: 'dense', version: 'v1', bytes }),
  });
  await stage.ready();
  const inputBatch = Math.max(1024, batch);
  const records: StreamRecord<Float32Array>[] = Array.from({ length: inputBatch }, (_, i) => ({
    key: `k${i}`,
    value: rows[i % rows.length]!,
    eventTime: 0,
    headers: {},
    position: { topic: 'bench', partition: 0, offset: i },
  }));
  const latencies: number[] = [];
  const out: StageOutput<Inferred<Float32Array>> = {
    emit(b) {
      // latency_ms is the inference batch's round trip divided by its rows; each inference batch has exactly `batch`
      // rows.
      for (let i = 0; i < b.records.length; i += batch)
        latencies.push(b.records[i]!.value.predictions[0]!.latency_ms * batch);
    },
    emitSide() {},
    deadLetter(_, e) {
      throw e;
    },
  };
  const run = async (items: number) => {
    latencies.length = 0;
    const t0 = performance.now();
    for (let done = 0; done < items; done += inputBatch) await stage.onBatch({ records, tokens: [] }, out);
    const seconds = (performance.now() - t0) / 1000;
    const sorted = [...latencies].sort((a, b) => a - b);
    return { itemsPerSecond: items / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  };
  await run(itemsFor(batch) / 4); // warm-up
  const results = [];
  for (let r = 0; r < REPS; r++) results.push(await run(itemsFor(batch)));
  await stage.close();
  return {
    throughput: spread(results.map((r) => r.itemsPerSecond)),
    p50: spread(results.map((r) => r.p50)),
    p99: spread(results.map((r) => r.p99)),
  };
}

console.log(`infer bench: dense ${SIZES.join(' → ')} softmax, onnxruntime-node CPU, intra-op threads 1, ${REPS} reps`);
const report = (label: string, m: Awaited<ReturnType<typeof measure>>) =>
  console.log(
    `${label}  ${formatSpread(m.throughput, ' items/s')}  ` +
      `p50 ${formatSpread(m.p50, ' ms')}  p99 ${formatSpread(m.p99, ' ms')}`,
  );
for (const threads of THREADS) {
  for (const batch of BATCHES)
    report(`threads ${threads}  batch ${String(batch).padStart(3)}`, await measure(batch, threads));
}
// What the NaN/Infinity check (one pass over every input value, in the inference thread) costs at this input width.
for (const threads of THREADS)
  report(`threads ${threads}  batch 256  checkFinite off`, await measure(256, threads, false));
