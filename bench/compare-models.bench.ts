/**
 * compare-models throughput: records/s through the stage (called directly, no transport), batches of 1,000, medians
 * with min/max over repeated runs after a warm-up, 30-day tumbling windows. Inputs are real: every HN posting (2013–
 * 2018 and 2026) with the predictions of two real postings classifiers (Model A: default config; Model B: a smaller
 * one), both trained here on the Glassdoor files and run with onnxruntime. Labels: the 2026 ground truth, and for the
 * older postings (which have none) Model B's class as a stand-in — the operator's cost does not depend on the values.
 *   - predictions: every posting into its window, windows closing as event time moves on, then end of input;
 *   - late labels: a label for every posting after all windows closed (each batch re-emits the windows it touches);
 *   - early labels: every label first (pending), then the predictions, which pick them up.
 *   npx tsx bench/compare-models.bench.ts [--quick]
 */
import { readHn2026Truth } from '../connectors/labels/hn-2026-truth.ts';
import type { Label } from '../schemas/label.ts';
import { hn2013Files, hn2026Files, readHn2013, readHn2026 } from '../connectors/postings/index.ts';
import { exportMlpToOnnx } from '../models/postings/export.ts';
import { FEATURE_DIM, featurizeBatch } from '../models/postings/features.ts';
import { createSession, runOnnx } from '../models/postings/parity.ts';
import { DEFAULT_POSTINGS_CONFIG, trainPostingsModel } from '../models/postings/train.ts';
import { compareModels } from '../operators/compare/compare-models.ts';
import type { Inferred } from '../operators/infer/infer.ts';
import { type JobPosting, normalizePosting, type RawPosting } from '../operators/normalize/index.ts';
import { tumbling } from '../streams/kernel/operators/window/window-spec.ts';
import type { Prediction } from '../schemas/prediction.ts';
import type { StreamRecord } from '../streams/kernel/record.ts';
import type { StageOutput } from '../streams/kernel/stage.ts';
import { dataDir, dataFile } from '../test/data-dir.ts';
import { formatSpread, spread } from './stats.ts';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 5 : 9;
const BATCH = 1000;
const MONTH = 30 * 86_400_000;
type Input = Inferred<null> | Label;

async function postings(): Promise<JobPosting[]> {
  const out: JobPosting[] = [];
  const seen = new Set<string>();
  const sources: AsyncGenerator<RawPosting[]>[] = [
    readHn2013(await hn2013Files(dataFile('postings', 'hn-hiring-2013-2018'))),
    readHn2026(await hn2026Files(dataFile('postings', 'hn-hiring-2026'))),
  ];
  for (const source of sources) {
    for await (const batch of source) {
      for (const raw of batch) {
        try {
          const p = normalizePosting(raw);
          if (p.posted_at === null || seen.has(p.id)) continue;
          seen.add(p.id);
          out.push(p);
        } catch {
          /* malformed source rows are dead letters in pipelines */
        }
      }
    }
  }
  return out.sort((a, b) => a.posted_at! - b.posted_at!);
}

/** Class of each posting under a model, in chunks (the features of all postings at once would take GBs). */
async function classify(model: Uint8Array, items: JobPosting[]): Promise<number[]> {
  const session = await createSession(model);
  const labels: number[] = [];
  for (let i = 0; i < items.length; i += 2_000) {
    const chunk = items.slice(i, i + 2_000);
    const probs = await runOnnx(model, featurizeBatch(chunk), [chunk.length, FEATURE_DIM], { session });
    for (let r = 0; r < chunk.length; r++) labels.push(probs[r * 2 + 1]! > probs[r * 2]! ? 1 : 0);
  }
  await session.release();
  return labels;
}

const prediction = (record_id: string, model_id: string, label: number): Prediction => ({
  record_id,
  model_id,
  model_version: 'v1',
  label,
  probabilities: label ? [0, 1] : [1, 0],
  confidence: 1,
  latency_ms: 0,
  predicted_at: 0,
});
const asRecord = (value: Input, eventTime: number, offset: number): StreamRecord<Input> => ({
  key: null,
  value,
  eventTime,
  headers: {},
  position: { topic: 'bench', partition: 0, offset },
});

const all = await postings();
const a = await trainPostingsModel(DEFAULT_POSTINGS_CONFIG, dataDir());
const b = await trainPostingsModel({ ...DEFAULT_POSTINGS_CONFIG, seed: 7, hidden: 8, epochs: 2 }, dataDir());
const [labelsA, labelsB] = [
  await classify(exportMlpToOnnx(a.weights), all),
  await classify(exportMlpToOnnx(b.weights), all),
];
a.model.dispose();
b.model.dispose();
const truth = new Map((await readHn2026Truth(dataFile('postings', 'hn-hiring-2026'))).map((l) => [l.record_id, l]));

const predictions = all.map((p, i) =>
  asRecord(
    {
      input: null,
      predictions: [prediction(p.id, 'postings-a', labelsA[i]!), prediction(p.id, 'postings-b', labelsB[i]!)],
    },
    p.posted_at!,
    i,
  ),
);
const labels = all.map((p, i) =>
  asRecord(
    truth.get(p.id) ?? { record_id: p.id, label: labelsB[i]!, label_name: null, source: 'stand-in', labeled_at: 0 },
    p.posted_at!,
    i,
  ),
);

let emitted = 0;
const out: StageOutput<unknown> = {
  emit: (batch) => {
    emitted += batch.records.length;
  },
  emitSide() {},
  deadLetter() {},
};

/** records/s of feeding `measured` (after `before`, not timed) in batches of 1,000, per run. */
function throughput(measured: StreamRecord<Input>[], before: StreamRecord<Input>[], endFirst: boolean): number[] {
  const rates: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const stage = compareModels<Inferred<null>>('compare', {
      pipeline: 'bench',
      modelA: 'postings-a',
      modelB: 'postings-b',
      window: tumbling(MONTH),
      maxClosedWindows: 1_000,
      maxRecords: 1_000_000,
    });
    for (let i = 0; i < before.length; i += BATCH)
      stage.onBatch({ records: before.slice(i, i + BATCH), tokens: [] }, out as StageOutput<never>);
    if (endFirst) stage.onEnd!(out as StageOutput<never>);
    const t0 = performance.now();
    for (let i = 0; i < measured.length; i += BATCH)
      stage.onBatch({ records: measured.slice(i, i + BATCH), tokens: [] }, out as StageOutput<never>);
    if (!endFirst) stage.onEnd!(out as StageOutput<never>);
    if (run > 0) rates.push(measured.length / ((performance.now() - t0) / 1000)); // run 0 warms up
  }
  return rates;
}

const line = (label: string, values: number[]) =>
  console.log(`  ${label.padEnd(52)} ${formatSpread(spread(values), ' records/s')}`);
const windows = new Set(all.map((p) => Math.floor(p.posted_at! / MONTH))).size;
const agreement = labelsA.filter((l, i) => l === labelsB[i]).length / all.length;
console.log(
  `compare-models — ${all.length} HN postings in ${windows} 30-day windows (A/B ` +
    `agreement ${agreement.toFixed(3)}), batches of ${BATCH}, ${RUNS} runs after a warm-up, Node ${process.version}`,
);
line('predictions (windows close by event time)', throughput(predictions, [], false));
line(`late labels (${truth.size} real + stand-ins, re-emitting)`, throughput(labels, predictions, true));
line('predictions picking up early (pending) labels', throughput(predictions, labels, false));
if (emitted === 0) throw new Error('the stage emitted nothing');
