/**
 * infer against raw onnxruntime-node, in one run: the same model, batch and threads (intra-op 1, one inference
 * thread), rounds interleaved so machine load hits both alike; prints items/s medians with min–max and the ratio
 * driftline / raw per round.
 *   - postings model: the postings MLP's graph (FEATURE_DIM 16,384 → 32 → ReLU → 2 → softmax, random weights: the
 *     cost does not depend on them) on real Glassdoor postings featurized as the stream does, batch 256; driftline
 *     with sparse rows (what the pipeline hands it) and with dense rows.
 *   - frames CNN: the frames model's graph (48×48 grey, 2 convolutions, random weights), batch 32, dense rows.
 * Raw: `session.run` on the main thread over batches already laid out in one Float32Array (no copy at all).
 * driftline's inference thread runs at nice 0 like the raw runs (its default, 10, is shown too: on a busy machine it
 * yields the CPU to the event loop by design); with `--base <checkout>` the base tree's `infer` runs too.
 * driftline: the `infer` stage driven directly (no transport), 1024 records per input batch, split into inference
 * batches of `batch` rows; includes building each batch's input, the NaN/Infinity check, the thread round trip and
 * the output records.
 *   npx tsx bench/infer.bench.ts [--rounds N] [--base /tmp/perf-base]   (data: DRIFTLINE_DATA_DIR or ../shared/data)
 *   npx tsx bench/infer.bench.ts --sweep             (driftline alone at batch 1, 8, 32, 256 with 1 and 2 threads)
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { denseModel, randomDense } from '../models/infer/dense-model.ts';
import { InferencePool } from '../models/infer/worker-pool.ts';
import { exportFramesOnnx } from '../models/frames/export.ts';
import { FEATURE_DIM, featurizeSparse } from '../models/postings/features.ts';
import { loadPostingsDataset } from '../models/postings/train.ts';
import { type Inferred, type SparseRow, infer } from '../operators/infer/infer.ts';
import { densify } from '../operators/infer/input-rows.ts';
import type { StreamRecord } from '../streams/kernel/record.ts';
import type { StageOutput } from '../streams/kernel/stage.ts';
import { dataDir } from '../test/data-dir.ts';
import { formatSpread, spread } from './stats.ts';

const arg = (name: string) => process.argv[process.argv.indexOf(name) + 1];
const ROUNDS = process.argv.includes('--rounds') ? Number(arg('--rounds')) : 5;
/** Items per timed run: ~0.2–0.5 s of model time for either model. */
const ITEMS = 8192;
const INPUT_BATCH = 1024;

type Row = Float32Array | SparseRow;

interface Workload {
  label: string;
  bytes: Uint8Array;
  /** Dims of one row, without the batch dimension. */
  shape: number[];
  batch: number;
  rows: Row[];
}

const width = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

interface Run {
  itemsPerS: number;
  /** CPU time of the whole process (every thread) per item: less sensitive to machine load than items/s. */
  cpuUsPerItem: number;
}

async function timed(work: () => Promise<void>): Promise<Run> {
  const [t0, cpu0] = [performance.now(), process.cpuUsage()];
  await work();
  const cpu = process.cpuUsage(cpu0);
  return { itemsPerS: ITEMS / ((performance.now() - t0) / 1000), cpuUsPerItem: (cpu.user + cpu.system) / ITEMS };
}

/** Raw onnxruntime-node: `session.run` over prebuilt batches (intra-op 1, the main thread). */
function rawRun(session: ort.InferenceSession, w: Workload, inputs: Float32Array): Promise<Run> {
  const rowWidth = width(w.shape);
  const batches = inputs.length / rowWidth / w.batch;
  return timed(async () => {
    for (let c = 0; c < ITEMS / w.batch; c++) {
      const off = (c % batches) * w.batch * rowWidth;
      const x = new ort.Tensor('float32', inputs.subarray(off, off + w.batch * rowWidth), [w.batch, ...w.shape]);
      const out = await session.run({ input: x });
      out.probabilities!.dispose();
    }
  });
}

/** One way of running the stage: its rows, the inference thread's nice value, and which tree's `infer`. */
interface Variant {
  label: string;
  rows: Row[];
  nice: number;
  infer: typeof infer;
}

/** The `infer` stage over input batches of INPUT_BATCH records of the variant's rows (their order cycled). */
async function driftlineStage(w: Workload, v: Variant) {
  const { rows } = v;
  const pool = new InferencePool({ threads: 1, intraOpNumThreads: 1, nice: v.nice });
  const stage = v.infer<Row>('bench', {
    models: [{ id: 'm' }],
    featureShape: w.shape,
    maxBatch: w.batch,
    pool,
    toInput: (x) => x,
    resolveModel: async () => ({ id: 'm', version: 'v1', bytes: w.bytes }),
  });
  await stage.ready();
  const inputs: StreamRecord<Row>[][] = [];
  for (let first = 0; first < ITEMS; first += INPUT_BATCH)
    inputs.push(
      Array.from({ length: INPUT_BATCH }, (_, i) => ({
        key: `k${first + i}`,
        value: rows[(first + i) % rows.length]!,
        eventTime: 0,
        headers: {},
        position: { topic: 'bench', partition: 0, offset: first + i },
      })),
    );
  const out: StageOutput<Inferred<Row>> = {
    emit() {},
    emitSide() {},
    deadLetter(_, e) {
      throw e;
    },
  };
  const rate = () =>
    timed(async () => {
      for (const records of inputs) await stage.onBatch({ records, tokens: [] }, out);
    });
  const close = async () => {
    await stage.close();
    await pool.close();
  };
  return { rate, close };
}

/** Dense rows laid out back to back, a whole number of batches (for the raw runs). */
function packed(rows: Float32Array[], w: Workload): Float32Array {
  const n = Math.floor(rows.length / w.batch) * w.batch;
  const out = new Float32Array(n * width(w.shape));
  for (let i = 0; i < n; i++) out.set(rows[i]!, i * width(w.shape));
  return out;
}

async function compare(w: Workload, variants: Variant[]): Promise<void> {
  const dense = w.rows.map((r) => (r instanceof Float32Array ? r : densify(r, width(w.shape))));
  const inputs = packed(dense, w);
  const session = await ort.InferenceSession.create(w.bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const stages = await Promise.all(variants.map((v) => driftlineStage(w, v)));
  await rawRun(session, w, inputs); // warm-up
  for (const s of stages) await s.rate();
  const raw: Run[] = [];
  const ours = variants.map(() => [] as Run[]);
  const loads: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    loads.push(loadavg()[0]!);
    raw.push(await rawRun(session, w, inputs));
    for (let v = 0; v < stages.length; v++) ours[v]!.push(await stages[v]!.rate());
  }
  await session.release();
  for (const s of stages) await s.close();
  console.log(`${w.label}, batch ${w.batch}, 1 thread, intra-op 1; load (1 min) ${loads.map((l) => l.toFixed(1))}`);
  const line = (label: string, runs: Run[]) =>
    `  ${label.padEnd(30)} ${formatSpread(spread(runs.map((r) => r.itemsPerS)), ' items/s')}; ` +
    `CPU ${formatSpread(spread(runs.map((r) => r.cpuUsPerItem)), ' µs/item')}`;
  console.log(line('raw onnxruntime-node', raw));
  variants.forEach((v, i) => {
    const ratio = (of: (r: Run) => number) => spread(ours[i]!.map((r, round) => of(r) / of(raw[round]!)));
    console.log(line(v.label, ours[i]!));
    console.log(
      `  ${''.padEnd(30)} per round: items/s ratio ${formatSpread(ratio((r) => r.itemsPerS))}; ` +
        `raw CPU/item ÷ ours ${formatSpread(ratio((r) => 1 / r.cpuUsPerItem))}`,
    );
  });
}

/** The postings MLP's graph with random weights; rows: real postings featurized as the stream does. */
async function postingsWorkload(): Promise<Workload> {
  const sizes = [FEATURE_DIM, 32, 2];
  const { postings } = await loadPostingsDataset(dataDir());
  const rows = postings.slice(0, 2048).map((p) => featurizeSparse(p));
  return {
    label: 'postings model',
    bytes: denseModel({ sizes, layers: randomDense(sizes, 42) }),
    shape: [FEATURE_DIM],
    batch: 256,
    rows,
  };
}

/** `n` deterministic pseudo-random values (scaled by 2/sqrt(n)). */
const randomValues = (n: number, seed: number) => randomDense([n, 1], seed)[0]!.weights;

/** The frames CNN's graph (default config: 48×48, filters 8 and 24, 6 classes) with random weights and frames. */
function framesWorkload(): Workload {
  const [size, f1, f2, k] = [48, 8, 24, 6];
  const flat = Math.floor((Math.floor((size - 2) / 2) - 2) / 2) ** 2 * f2;
  const bytes = exportFramesOnnx({
    size,
    filters: [f1, f2],
    classes: Array.from({ length: k }, (_, i) => `class-${i}`),
    w1: randomValues(9 * f1, 1),
    b1: new Float32Array(f1),
    w2: randomValues(9 * f1 * f2, 2),
    b2: new Float32Array(f2),
    w3: randomValues(flat * k, 3),
    b3: new Float32Array(k),
  });
  const pixels = size * size;
  const frames = Array.from({ length: 512 }, (_, i) => randomValues(pixels, 100 + i).map(Math.abs));
  return { label: 'frames CNN', bytes, shape: [1, size, size], batch: 32, rows: frames };
}

/**
 * The variants of a workload: this tree's stage (thread at nice 0 like the raw runs, and at its default 10), and the
 * base's.
 */
function variantsOf(rows: Row[], kind: string, base: typeof infer | undefined): Variant[] {
  const variants: Variant[] = [
    { label: `driftline ${kind}`, rows, nice: 0, infer },
    { label: `driftline ${kind}, nice 10`, rows, nice: 10, infer },
  ];
  if (base) variants.push({ label: `base ${kind}`, rows, nice: 0, infer: base });
  return variants;
}

if (process.argv.includes('--sweep')) await import('./infer-sweep.ts');
else {
  const base = process.argv.includes('--base')
    ? ((await import(resolve(arg('--base')!, 'operators/infer/infer.ts'))).infer as typeof infer)
    : undefined;
  console.log(`infer vs raw onnxruntime-node, ${ROUNDS} rounds interleaved, ${ITEMS} items per run`);
  const postings = await postingsWorkload();
  const dense = postings.rows.map((r) => densify(r as SparseRow, FEATURE_DIM));
  await compare(postings, [
    ...variantsOf(postings.rows, 'sparse rows', base),
    ...variantsOf(dense, 'dense rows', base),
  ]);
  const frames = framesWorkload();
  await compare(frames, variantsOf(frames.rows, 'dense rows', base));
}
