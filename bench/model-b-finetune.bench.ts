/**
 * Model B fine-tune cost (models/continual) for 1,000 and 10,000 new examples, on real postings:
 *   - pseudo examples: HN "Who is hiring" 2013–2018 posts labelled by Model A (trained first on Glassdoor 2020);
 *   - human examples: the 2026 HN postings with their classified.json labels, 10 % of each set (the batches still
 *     hold ≥ 25 % human examples: they are oversampled);
 *   - from A's weights, the default fine-tune config (3 epochs, batch 32, lr 5e-4).
 * Reported, median (min, max) over REPS runs:
 *   - featurizing alone (the worker's sparse featurizer, run here on the main thread), postings/s;
 *   - the whole fine-tune through the worker as the trainer runs it (texts posted in chunks, featurized, trained,
 *     exported to ONNX, bytes back), with its featurize / train / export parts as the worker timed them;
 *   - the event loop's delay (max, p99) while the worker trains (perf_hooks, 10 ms resolution), next to the same
 *     figures over 3 s with nothing running (the machine's other load), and peak RSS of this process and of the
 *     worker process.
 *   npx tsx bench/model-b-finetune.bench.ts [--quick]    (--quick: 1,000 examples only)
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { readHn2026Truth } from '../connectors/labels/hn-2026-truth.ts';
import { hn2013Files, hn2026Files, readHn2013, readHn2026 } from '../connectors/postings/index.ts';
import { normalizePosting } from '../operators/normalize/index.ts';
import { DEFAULT_FINE_TUNE_CONFIG, type FineTuneExample, featurizeSparse } from '../models/continual/fine-tune.ts';
import { FineTuneWorker } from '../models/continual/fine-tune-client.ts';
import { trainingSetHash } from '../models/continual/training-example.ts';
import { argmax } from '../models/classification-metrics.ts';
import { exportMlpToOnnx } from '../models/postings/export.ts';
import { FEATURE_DIM, featurizeBatch, type PostingText } from '../models/postings/features.ts';
import { DEFAULT_POSTINGS_CONFIG, predictProbabilities, trainPostingsModel } from '../models/postings/train.ts';
import { configHash } from '../models/registry/lineage.ts';
import { dataDir } from '../test/data-dir.ts';
import { formatSpread, spread } from './stats.ts';

const quick = process.argv.includes('--quick');
const REPS = 3;
const SIZES = quick ? [1_000] : [1_000, 10_000];
const HUMAN_SHARE = 0.1;
const rssMb = () => process.resourceUsage().maxRSS / 1024;

// --- Model A and the examples ----------------------------------------------------------------------------------------
const a = await trainPostingsModel(DEFAULT_POSTINGS_CONFIG, dataDir());
const parentOnnx = exportMlpToOnnx(a.weights);
console.log(
  `model B fine-tune bench: Model A trained in ${a.trainSeconds.toFixed(1)} s (held-out ` +
    `accuracy ${a.metrics.accuracy.toFixed(4)}); peak RSS ${rssMb().toFixed(0)} MB`,
);

const maxPseudo = Math.max(...SIZES);
const pseudoTexts: PostingText[] = [];
for await (const batch of readHn2013(await hn2013Files(join(dataDir(), 'postings', 'hn-hiring-2013-2018')))) {
  for (const raw of batch) {
    if (pseudoTexts.length >= maxPseudo) break;
    try {
      const p = normalizePosting(raw);
      pseudoTexts.push({ title: p.title, description: p.description });
    } catch {
      // rejected by the normalizer
    }
  }
}
const pseudoLabels: number[] = [];
for (let first = 0; first < pseudoTexts.length; first += 256) {
  const chunk = pseudoTexts.slice(first, first + 256);
  const probs = predictProbabilities(a.model, featurizeBatch(chunk));
  chunk.forEach((_, i) => {
    pseudoLabels.push(argmax(probs, i, 2));
  });
}
a.model.dispose();

const hnDir = join(dataDir(), 'postings', 'hn-hiring-2026');
const hnTexts = new Map<string, PostingText>();
for await (const batch of readHn2026(await hn2026Files(hnDir))) {
  for (const raw of batch) {
    try {
      const p = normalizePosting(raw);
      hnTexts.set(p.id, { title: p.title, description: p.description });
    } catch {
      // rejected by the normalizer
    }
  }
}
const human = (await readHn2026Truth(hnDir))
  .filter((l) => hnTexts.has(l.record_id))
  .map((l) => ({ id: l.record_id, text: hnTexts.get(l.record_id)!, label: l.label }));
const avgChars = pseudoTexts.reduce((n, t) => n + t.title.length + t.description.length, 0) / pseudoTexts.length;
console.log(
  `  ${pseudoTexts.length} pseudo-labelled HN 2013–2018 posts (avg ${Math.round(avgChars)} chars), ${human.length} ` +
    `human-labelled HN 2026 postings, FEATURE_DIM ${FEATURE_DIM}`,
);

function examplesOf(n: number): { examples: FineTuneExample[]; ids: Array<{ record_id: string; label: number }> } {
  const h = Math.min(human.length, Math.round(n * HUMAN_SHARE));
  const examples: FineTuneExample[] = [];
  const ids: Array<{ record_id: string; label: number }> = [];
  for (let i = 0; i < n - h; i++) {
    examples.push({ text: pseudoTexts[i]!, label: pseudoLabels[i]!, human: false });
    ids.push({ record_id: `hn2013-${i}`, label: pseudoLabels[i]! });
  }
  for (const x of human.slice(0, h)) {
    examples.push({ text: x.text, label: x.label, human: true });
    ids.push({ record_id: x.id, label: x.label });
  }
  return { examples, ids };
}

// --- measurements ---------------------------------------------------------------------------------------------------
const worker = new FineTuneWorker();
const config = DEFAULT_FINE_TUNE_CONFIG;
// The worker process's start (tsx, tfjs, wasm, ONNX Runtime) is paid once per trainer: measured apart, with a tiny
// first request.
{
  const t0 = performance.now();
  const { examples, ids } = examplesOf(20);
  await worker.fineTune({
    parentOnnx,
    examples,
    config: { ...config, epochs: 1 },
    datasetHash: trainingSetHash(ids),
    configHash: 'warm-up',
  });
  console.log(
    `  worker start + first (20-example, 1-epoch) fine-tune: ${((performance.now() - t0) / 1000).toFixed(2)} s`,
  );
}
/** Event-loop delay with nothing running in this process: what the machine's other load costs the loop right now. */
async function idleDelay(ms: number): Promise<{ max: number; p99: number }> {
  const idle = monitorEventLoopDelay({ resolution: 10 });
  idle.enable();
  await new Promise((r) => setTimeout(r, ms));
  idle.disable();
  return { max: idle.max / 1e6, p99: idle.percentile(99) / 1e6 };
}
const line = (label: string, values: number[], unit: string) =>
  console.log(`    ${label.padEnd(26)} ${formatSpread(spread(values), unit)}`);

for (const n of SIZES) {
  const { examples, ids } = examplesOf(n);
  const texts = examples.map((e) => e.text);
  const featurizeRates: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const t0 = performance.now();
    featurizeSparse(texts);
    featurizeRates.push(n / ((performance.now() - t0) / 1000));
  }
  const wall: number[] = [];
  const featurize: number[] = [];
  const train: number[] = [];
  const exportMs: number[] = [];
  const loopMax: number[] = [];
  let batches = 0;
  let humanPerBatch = 0;
  let workerRssMb = 0;
  const hashes = { datasetHash: trainingSetHash(ids), configHash: configHash(config) };
  const baseline = await idleDelay(3000);
  const loopP99: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const t0 = performance.now();
    const reply = await worker.fineTune({ parentOnnx, examples, config, ...hashes });
    wall.push((performance.now() - t0) / 1000);
    delay.disable();
    loopMax.push(delay.max / 1e6);
    loopP99.push(delay.percentile(99) / 1e6);
    featurize.push(reply.featurizeSeconds);
    train.push(reply.trainSeconds);
    exportMs.push(reply.exportSeconds * 1000);
    batches = reply.batchesPerEpoch;
    humanPerBatch = reply.humanPerBatch;
    workerRssMb = reply.maxRssMb;
  }
  console.log(
    `  ${n.toLocaleString('en-US')} examples (${Math.round(n * (1 - HUMAN_SHARE))} pseudo ` +
      `+ ${Math.round(n * HUMAN_SHARE)} human; ${config.epochs} epochs × ${batches} batches ` +
      `of ${config.batchSize}, ${humanPerBatch} human each):`,
  );
  line('featurize (main thread)', featurizeRates, ' postings/s');
  line('fine-tune via worker, total', wall, ' s');
  line('  of which featurize', featurize, ' s');
  line('  of which train', train, ' s');
  line('  of which ONNX export', exportMs, ' ms');
  line('event-loop delay, max', loopMax, ' ms');
  line('event-loop delay, p99', loopP99, ' ms');
  console.log(
    `    ${'  idle 3 s before (baseline)'.padEnd(26)} max ${baseline.max.toFixed(1)} ms, ` +
      `p99 ${baseline.p99.toFixed(1)} ms (all delay figures include the 10 ms sampling interval)`,
  );
  const rows = batches * config.batchSize * config.epochs; // ≈: an epoch's last batch may be smaller
  console.log(
    `    ${'train throughput'.padEnd(26)} ~${Math.round(rows / spread(train).median).toLocaleString('en-US')} ` +
      `rows/s (${rows.toLocaleString('en-US')} rows drawn)`,
  );
  console.log(
    `    ${'peak RSS so far'.padEnd(26)} this process ${rssMb().toFixed(0)} MB, worker ` +
      `process ${workerRssMb.toFixed(0)} MB`,
  );
}
await worker.close();
