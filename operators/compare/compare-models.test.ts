/**
 * compare-models on real data: two real ONNX postings classifiers (trained here on the Glassdoor files: Model A with
 * the default config, Model B a smaller, shorter-trained one) predict every 2026 HN posting; the ground truth is
 * `readHn2026Truth`, imported through the label file format. Every expected number is brute-forced in the test from
 * the predictions the pipeline made and the truth.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLabels } from '../../cli/label.ts';
import { decodeLabel } from '../../connectors/labels/label-format.ts';
import { readHn2026Truth } from '../../connectors/labels/hn-2026-truth.ts';
import type { Label } from '../../schemas/label.ts';
import { ArraySink } from '../../streams/kernel/memory/array-sink.ts';
import { MemoryTransport } from '../../streams/kernel/memory/memory-log.ts';
import { hn2026Files, readHn2026 } from '../../connectors/postings/index.ts';
import { topicSource } from '../../streams/kernel/transport/topic-source.ts';
import { type Calibration, calibrate, fitCalibration } from '../../models/calibration/calibration.ts';
import { argmax } from '../../models/classification-metrics.ts';
import { exportMlpToOnnx } from '../../models/postings/export.ts';
import { FEATURE_DIM, featurize } from '../../models/postings/features.ts';
import {
  CLASSES,
  DEFAULT_POSTINGS_CONFIG,
  type PostingsTrainResult,
  trainPostingsModel,
} from '../../models/postings/train.ts';
import { CommitTracker } from '../../streams/kernel/ack.ts';
import { Pipeline } from '../../streams/kernel/pipeline.ts';
import { DEFAULT_LABEL_CLASSES } from '../../streams/pipelines/labels.ts';
import type { DeadLetter, StreamRecord } from '../../streams/kernel/record.ts';
import { runPipeline } from '../../streams/kernel/runner.ts';
import type { StageOutput } from '../../streams/kernel/stage.ts';
import { dataDir, dataFile } from '../../test/data-dir.ts';
import { type InferStage, type Inferred, infer } from '../infer/infer.ts';
import { type JobPosting, normalizePosting } from '../normalize/index.ts';
import {
  hopping,
  type TimeWindowSpec,
  tumbling,
  windowStarts,
} from '../../streams/kernel/operators/window/window-spec.ts';
import {
  type CompareModelsStage,
  type CompareInput,
  type ModelComparison,
  compareModels,
  modelComparisonRow,
} from './compare-models.ts';

const MONTH = 30 * 86_400_000;
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
const A = 'postings-a';
const B = 'postings-b';

let postings: JobPosting[];
let truth: Label[];
const modelBytes = new Map<string, Uint8Array>();
/** Each model's calibrations fitted on its own held-out data, as calibrationFromHeldOut fits them. */
const calibrations = new Map<string, { isotonic: Calibration; platt: Calibration }>();
const stages: InferStage<JobPosting>[] = [];

beforeAll(async () => {
  const seen = new Set<string>();
  postings = [];
  for await (const batch of readHn2026(await hn2026Files(dataFile('postings', 'hn-hiring-2026')))) {
    for (const raw of batch) {
      try {
        const p = normalizePosting(raw);
        if (p.posted_at === null || seen.has(p.id)) continue;
        seen.add(p.id);
        postings.push(p);
      } catch {
        // malformed source records are the normalizer's business (tested there)
      }
    }
  }
  postings.sort((x, y) => x.posted_at! - y.posted_at!); // a stream arrives in event-time order
  truth = await readHn2026Truth(dataFile('postings', 'hn-hiring-2026'));
  const a = await trainPostingsModel(DEFAULT_POSTINGS_CONFIG, dataDir());
  const b = await trainPostingsModel({ ...DEFAULT_POSTINGS_CONFIG, seed: 7, hidden: 8, epochs: 2 }, dataDir());
  modelBytes.set(A, exportMlpToOnnx(a.weights));
  modelBytes.set(B, exportMlpToOnnx(b.weights));
  calibrations.set(A, heldOutCalibrations(a));
  calibrations.set(B, heldOutCalibrations(b));
  a.model.dispose();
  b.model.dispose();
});

afterAll(async () => {
  for (const s of stages) await s.close();
});

function heldOutCalibrations(r: PostingsTrainResult) {
  const rows = r.heldOut.labels.length;
  const best = Array.from({ length: rows }, (_, row) => argmax(r.heldOutProbabilities, row, CLASSES.length));
  const top = best.map((c, row) => r.heldOutProbabilities[row * CLASSES.length + c]!);
  const correct = best.map((c, row) => c === r.heldOut.labels[row]);
  return { isotonic: fitCalibration(top, correct, 'isotonic'), platt: fitCalibration(top, correct, 'platt') };
}

const predictBoth = () => {
  const stage = infer<JobPosting>('predict', {
    models: [{ id: A }, { id: B }],
    featureShape: [FEATURE_DIM],
    maxBatch: 128,
    toInput: (p) => featurize(p),
    resolveModel: async (ref) => ({ id: ref.id, version: 'v1', bytes: modelBytes.get(ref.id)! }),
  });
  stages.push(stage);
  return stage;
};

/** The truth as a label file: half the labels by class name, half by index, ISO dates, plus two bad lines. */
function truthFile(labels: Label[]): Buffer {
  const lines = labels.map((l, i) =>
    JSON.stringify({
      record_id: l.record_id,
      label: i % 2 ? CLASSES[l.label] : l.label,
      label_name: l.label_name,
      source: l.source,
      labeled_at: new Date(l.labeled_at).toISOString(),
    }),
  );
  lines.splice(10, 0, '{"record_id":"47","label":"frontend"}', '{"record_id":');
  return Buffer.from(`${lines.join('\n')}\n`);
}

interface Expected {
  records: number;
  agreed: number;
  labeled: number;
  correctA: number;
  correctB: number;
}

/** Per window start, straight from the predictions and the truth. */
function bruteForce(
  predicted: StreamRecord<Inferred<JobPosting>>[],
  labels: Label[],
  spec: TimeWindowSpec = tumbling(MONTH),
): Map<number, Expected> {
  const labelOf = new Map(labels.map((l) => [l.record_id, l.label]));
  const out = new Map<number, Expected>();
  for (const r of predicted) {
    const a = r.value.predictions.find((p) => p.model_id === A)!;
    const b = r.value.predictions.find((p) => p.model_id === B)!;
    for (const start of windowStarts(spec, r.eventTime)) {
      const e = out.get(start) ?? { records: 0, agreed: 0, labeled: 0, correctA: 0, correctB: 0 };
      out.set(start, e);
      e.records++;
      if (a.label === b.label) e.agreed++;
      const truthLabel = labelOf.get(a.record_id);
      if (truthLabel === undefined) continue;
      e.labeled++;
      if (a.label === truthLabel) e.correctA++;
      if (b.label === truthLabel) e.correctB++;
    }
  }
  return out;
}

const asExpected = (c: ModelComparison): Expected => ({
  records: c.records,
  agreed: c.agreed,
  labeled: c.labeled,
  correctA: c.correct_a,
  correctB: c.correct_b,
});

/** The newest row of every window. */
const latest = (rows: ModelComparison[]) => {
  const out = new Map<number, ModelComparison>();
  for (const r of rows) if ((out.get(r.window_start)?.version ?? -1) < r.version) out.set(r.window_start, r);
  return out;
};

async function waitFor(what: string, condition: () => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * postings + labels topics → branch by topic → [infer A and B] / [decode label] → merge → compare-models, running
 * until stopped (windows close by event time and, for the last one, after 1.5 s without predictions).
 */
function startPipeline(transport: MemoryTransport) {
  const compare = compareModels<Inferred<JobPosting>>('compare', {
    pipeline: 'postings',
    modelA: A,
    modelB: B,
    window: tumbling(MONTH),
    idleTimeoutMs: 1_500,
  });
  const rows = new ArraySink<ModelComparison>('rows');
  const predicted = new ArraySink<Inferred<JobPosting>>('predicted');
  const dead = new ArraySink<DeadLetter>('dead');
  const p = new Pipeline('compare-test').deadLetters(dead);
  const [postingsIn, labelsIn, other] = p
    .from(topicSource(transport, { topics: ['postings', 'labels'], group: 'compare', maxBatchRecords: 200 }))
    .branch(
      'by-topic',
      (_, r) => r.position.topic === 'postings',
      (_, r) => r.position.topic === 'labels',
    );
  other!.to(new ArraySink('unexpected-topic'));
  const predictions = postingsIn!.map('decode', (b) => JSON.parse(b.toString()) as JobPosting).through(predictBoth());
  predictions.to(predicted);
  const labels = labelsIn!.map('decode-label', (b) => decodeLabel(b, { classes: DEFAULT_LABEL_CLASSES }));
  predictions.merge('with-labels', labels).through(compare).to(rows);
  const stop = new AbortController();
  const run = runPipeline(p, { signal: stop.signal, tickMs: 50, pollWaitMs: 20 });
  const finish = async () => {
    stop.abort();
    return await run;
  };
  return { compare, rows, predicted, dead, stop: finish };
}

async function producePostings(transport: MemoryTransport) {
  const producer = await transport.producer();
  await transport.ensureTopic('postings', 1);
  await producer.send(
    'postings',
    postings.map((p) => ({ key: p.id, value: Buffer.from(JSON.stringify(p)), timestamp: p.posted_at! })),
  );
}

const importTruth = (transport: MemoryTransport) =>
  importLabels(
    transport,
    { file: 'hn-2026-truth.jsonl', bytes: truthFile(truth), topic: 'labels', deadLetterTopic: 'labels.dlq' },
    { classes: DEFAULT_LABEL_CLASSES },
  );

describe('compare-models on 2026 HN postings, two real ONNX models, monthly windows', () => {
  it('labels imported after every window closed join the right predictions and update the past windows', async () => {
    expect(DEFAULT_LABEL_CLASSES).toEqual(CLASSES);
    const transport = new MemoryTransport();
    await producePostings(transport);
    const run = startPipeline(transport);
    const windowCount = new Set(postings.map((p) => Math.floor(p.posted_at! / MONTH))).size;
    await waitFor(
      'every window to close',
      () =>
        run.predicted.records.length === postings.length &&
        run.compare.stats().windowsOpen === 0 &&
        latest(run.rows.values).size === windowCount,
    );
    const before = [...latest(run.rows.values).values()];

    // Without labels: agreement per window as brute-forced, accuracy unknown.
    const expectedUnlabeled = bruteForce(run.predicted.records, []);
    expect(new Set(before.map((r) => r.window_start))).toEqual(new Set(expectedUnlabeled.keys()));
    for (const row of before) {
      expect(asExpected(row)).toEqual(expectedUnlabeled.get(row.window_start));
      expect(row.agreement).toBe(row.agreed / row.records);
      expect([row.accuracy_a, row.accuracy_b]).toEqual([null, null]);
      expect([row.model_a, row.model_b]).toEqual([`${A}@v1`, `${B}@v1`]);
    }

    // The labels arrive after the fact, through the import path and the labels topic.
    const imported = await importTruth(transport);
    expect(imported.imported).toBe(truth.length);
    expect(imported.errors.map((e) => e.line)).toEqual([11, 12]);
    expect(
      (await transport.consumer({ group: 'dlq-reader', topics: ['labels.dlq'] }).then((c) => c.poll(100))).flatMap(
        (b) => b.messages.map((m) => m.value.toString()),
      ),
    ).toEqual(['{"record_id":"47","label":"frontend"}', '{"record_id":']);
    const expected = bruteForce(run.predicted.records, truth);
    const predictedIds = new Set(postings.map((p) => p.id));
    const joinable = truth.filter((l) => predictedIds.has(l.record_id)).length;
    await waitFor(
      'the labels to be joined',
      () =>
        run.compare.stats().labelsJoined === joinable &&
        [...latest(run.rows.values).values()].every((r) => r.labeled === expected.get(r.window_start)!.labeled),
    );
    await run.stop();

    const after = latest(run.rows.values);
    expect(after.size).toBe(windowCount);
    let labeledTotal = 0;
    for (const [start, row] of after) {
      const want = expected.get(start)!;
      expect(asExpected(row)).toEqual(want);
      expect(row.accuracy_a).toBe(want.labeled > 0 ? want.correctA / want.labeled : null);
      expect(row.accuracy_b).toBe(want.labeled > 0 ? want.correctB / want.labeled : null);
      expect(row.version).toBeGreaterThan(before.find((r) => r.window_start === start)!.version);
      labeledTotal += row.labeled;
    }
    expect(labeledTotal).toBe(joinable);
    expect(joinable).toBeGreaterThan(1_000);
    const stats = run.compare.stats();
    expect(stats.labelsPending).toBe(truth.length - joinable); // truth for postings that never came (not in the stream)
    expect([stats.labelsExpired, stats.predictionsTooLate, stats.duplicatePredictions]).toEqual([0, 0, 0]);
    expect(run.dead.records).toHaveLength(0);

    const total = [...after.values()].reduce(
      (s, r) => ({
        a: s.a + r.correct_a,
        b: s.b + r.correct_b,
        n: s.n + r.labeled,
        agree: s.agree + r.agreed,
        records: s.records + r.records,
      }),
      { a: 0, b: 0, n: 0, agree: 0, records: 0 },
    );
    console.log(
      `[compare] ${total.records} postings in ${windowCount} windows, ${total.n} labelled: accuracy ` +
        `A ${(total.a / total.n).toFixed(3)}, B ${(total.b / total.n).toFixed(3)}, ` +
        `agreement ${(total.agree / total.records).toFixed(3)}`,
    );
    const row = modelComparisonRow(after.get(Math.max(...after.keys()))!, 'run-1');
    expect(row.id).toBe(`run-1/postings/${Math.max(...after.keys())}/${A}/${B}`);
    expect(Object.keys(row).sort()).toEqual([
      'accuracy_a',
      'accuracy_b',
      'agreement',
      'correct_a',
      'correct_b',
      'estimate_alert_a',
      'estimate_alert_b',
      'estimate_method',
      'estimated_accuracy_a',
      'estimated_accuracy_b',
      'id',
      'labeled',
      'model_a',
      'model_b',
      'pipeline',
      'records',
      'reference_accuracy_a',
      'reference_accuracy_b',
      'run_id',
      'updated_at',
      'version',
      'window_end',
      'window_start',
    ]);
    // Without the estimate option there is no estimate, only the realized accuracy.
    expect([
      row.estimated_accuracy_a,
      row.estimated_accuracy_b,
      row.estimate_method,
      row.estimate_alert_a,
      row.estimate_alert_b,
    ]).toEqual([null, null, null, null, null]);
  });

  it('labels that come before their predictions are held and applied when the predictions arrive', async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopic('postings', 1);
    await importTruth(transport);
    const run = startPipeline(transport);
    await waitFor('every label to be pending', () => run.compare.stats().labelsPending === truth.length);
    expect(run.rows.records).toHaveLength(0);

    await producePostings(transport);
    const windowCount = new Set(postings.map((p) => Math.floor(p.posted_at! / MONTH))).size;
    await waitFor(
      'every window to close',
      () =>
        run.predicted.records.length === postings.length &&
        run.compare.stats().windowsOpen === 0 &&
        latest(run.rows.values).size === windowCount,
    );
    await run.stop();

    const expected = bruteForce(run.predicted.records, truth);
    expect(run.rows.records).toHaveLength(windowCount); // one row per window: everything was known at close
    for (const row of run.rows.values) expect(asExpected(row)).toEqual(expected.get(row.window_start));
    const ids = new Set(postings.map((p) => p.id));
    const joinable = truth.filter((l) => ids.has(l.record_id)).length;
    const stats = run.compare.stats();
    expect([stats.labelsJoined, stats.labelsPending, stats.reemitted]).toEqual([joinable, truth.length - joinable, 0]);
  });
});

describe('compare-models state bounds, corrections and acknowledgements (stage called directly, real models)', () => {
  let predicted: StreamRecord<Inferred<JobPosting>>[];
  beforeAll(async () => {
    const transport = new MemoryTransport();
    await producePostings(transport);
    const sink = new ArraySink<Inferred<JobPosting>>('predicted');
    const p = new Pipeline('predict');
    p.from(topicSource(transport, { topic: 'postings', group: 'g' }))
      .map('decode', (b) => JSON.parse(b.toString()) as JobPosting)
      .through(predictBoth())
      .to(sink);
    await runPipeline(p, { untilIdle: true });
    predicted = sink.records.sort((x, y) => x.eventTime - y.eventTime);
  });

  /** Feeds values in batches of 100, each batch holding one fresh acknowledgement token of `topic`. */
  function feeder(stage: CompareModelsStage<Inferred<JobPosting>>, tracker: CommitTracker) {
    const rows: ModelComparison[] = [];
    const dead: string[] = [];
    const out: StageOutput<ModelComparison> = {
      emit: (batch) => {
        rows.push(...batch.records.map((r) => r.value));
        for (const t of batch.tokens) t.release(); // the sink acknowledges at once
      },
      emitSide: () => {},
      deadLetter: (_, error) => dead.push((error as Error).message),
    };
    const offsets = new Map<string, number>();
    const feed = (topic: string, records: StreamRecord<CompareInput<Inferred<JobPosting>>>[]) => {
      for (let i = 0; i < records.length; i += 100) {
        const next = (offsets.get(topic) ?? 0) + Math.min(100, records.length - i);
        offsets.set(topic, next);
        stage.onBatch({ records: records.slice(i, i + 100), tokens: [tracker.track(topic, 0, next)] }, out);
      }
    };
    const committed = () => Object.fromEntries(tracker.takeCommittable().map((o) => [o.topic, o.offset]));
    return { rows, dead, out, feed, committed, offsets };
  }

  const labelRecords = (labels: Label[]): StreamRecord<Label>[] =>
    labels.map((l, i) => ({
      key: l.record_id,
      value: l,
      eventTime: l.labeled_at,
      headers: {},
      position: { topic: 'labels', partition: 0, offset: i },
    }));

  it('keeps at most maxClosedWindows windows and maxRecords records; later labels pend, expire, all counted', () => {
    const stage = compareModels<Inferred<JobPosting>>('compare', {
      pipeline: 'postings',
      modelA: A,
      modelB: B,
      window: tumbling(MONTH),
      maxClosedWindows: 1,
      maxRecords: 400,
      maxPendingLabels: 50,
    });
    const tracker = new CommitTracker();
    const f = feeder(stage, tracker);
    f.feed('predictions', predicted);
    // The last window is still open and holds the references of the batches that contributed to it.
    const lastStart = Math.floor(predicted.at(-1)!.eventTime / MONTH) * MONTH;
    const firstOfLast = predicted.findIndex((r) => r.eventTime >= lastStart);
    expect(f.committed().predictions).toBeLessThanOrEqual(firstOfLast);
    stage.onEnd!(f.out);
    expect(f.committed().predictions).toBe(predicted.length);
    const windowCount = new Set(predicted.map((r) => Math.floor(r.eventTime / MONTH))).size;
    expect(stage.stats()).toMatchObject({
      predictions: predicted.length,
      windowsOpen: 0,
      windowsClosed: 1,
      windowsDropped: windowCount - 1,
      recordsKept: 400,
    });

    f.feed('labels', labelRecords(truth));
    // Joinable: among the newest 400 predictions, and in the one window still kept.
    const kept = new Set(
      predicted
        .slice(-400)
        .filter((r) => r.eventTime >= lastStart)
        .map((r) => r.key),
    );
    const joined = truth.filter((l) => kept.has(l.record_id));
    const stats = stage.stats();
    expect(stats.labelsJoined).toBe(joined.length);
    expect(stats.labelsPending).toBe(50);
    expect(stats.labelsExpired).toBe(truth.length - joined.length - 50);
    const row = latest(f.rows).get(lastStart)!;
    const want = bruteForce(
      predicted.filter((r) => kept.has(r.key)),
      joined,
    ).get(lastStart)!;
    expect([row.labeled, row.correct_a, row.correct_b]).toEqual([want.labeled, want.correctA, want.correctB]);
    expect(row.records).toBe(predicted.filter((r) => r.eventTime >= lastStart).length); // dropped records still count
    expect(f.committed().labels).toBe(truth.length); // label offsets are committable: nothing holds them

    // A prediction for a window that was dropped is too late; a record without B's prediction is a dead letter.
    const early = predicted[0]!;
    const renamed = (id: string, models: string[]) => ({
      ...early,
      value: {
        ...early.value,
        predictions: early.value.predictions
          .filter((p) => models.includes(p.model_id))
          .map((p) => ({ ...p, record_id: id })),
      },
    });
    // a Prediction is no label
    const bare = { ...early, value: early.value.predictions[0]! } as unknown as StreamRecord<Inferred<JobPosting>>;
    f.feed('predictions', [renamed('late-1', [A, B]), renamed('no-b', [A]), bare]);
    expect(stage.stats().predictionsTooLate).toBe(1);
    expect(f.dead).toEqual([
      `no prediction from model B (${B}); predictions from: ${A}`,
      'neither predictions ({ predictions: [...] }) nor a label ({ record_id, label, labeled_at, ... })',
    ]);
  });

  it('a corrected label replaces the old; a repeat changes nothing; hopping: each window of a record updates', () => {
    const spec = hopping(MONTH, MONTH / 2);
    const stage = compareModels<Inferred<JobPosting>>('compare', {
      pipeline: 'postings',
      modelA: A,
      modelB: B,
      window: spec,
    });
    const f = feeder(stage, new CommitTracker());
    f.feed('predictions', predicted);
    stage.onEnd!(f.out);
    f.feed('labels', labelRecords(truth));
    const expected = bruteForce(predicted, truth, spec);
    let rows = latest(f.rows);
    expect(rows.size).toBe(expected.size);
    for (const [start, row] of rows) expect(asExpected(row)).toEqual(expected.get(start));

    const target = truth.find((l) => predicted.some((r) => r.key === l.record_id))!;
    const emittedBefore = f.rows.length;
    f.feed('labels', labelRecords([{ ...target }]));
    expect(f.rows.length).toBe(emittedBefore);
    expect(stage.stats().labelsRepeated).toBe(1);

    const corrected = truth.map((l) => (l === target ? { ...l, label: 1 - l.label } : l));
    f.feed('labels', labelRecords([{ ...target, label: 1 - target.label }]));
    expect(stage.stats().labelsChanged).toBe(1);
    expect(f.rows.length - emittedBefore).toBe(2); // the record is in two hopping windows
    const fixed = bruteForce(predicted, corrected, spec);
    rows = latest(f.rows);
    for (const [start, row] of rows) expect(asExpected(row)).toEqual(fixed.get(start));
  });

  type CalibrationFor = (model: string, version: string) => Calibration | undefined;

  interface ExpectedEstimate {
    a: number | null;
    b: number | null;
    referenceA: number | null;
    referenceB: number | null;
    methods: string | null;
  }

  /**
   * Per window start, each model's mean calibrated confidence, straight from the predictions (null if any is missing).
   */
  function bruteEstimates(
    records: StreamRecord<Inferred<JobPosting>>[],
    calibrationFor: CalibrationFor,
  ): Map<number, ExpectedEstimate> {
    const sums = new Map<
      number,
      Record<string, { p: number; ref: number; n: number; missing: number; methods: Set<string> }>
    >();
    for (const r of records) {
      for (const start of windowStarts(tumbling(MONTH), r.eventTime)) {
        const w = sums.get(start) ?? {
          [A]: { p: 0, ref: 0, n: 0, missing: 0, methods: new Set() },
          [B]: { p: 0, ref: 0, n: 0, missing: 0, methods: new Set() },
        };
        sums.set(start, w);
        for (const p of r.value.predictions) {
          const cal = calibrationFor(p.model_id, p.model_version);
          const s = w[p.model_id]!;
          if (!cal || !Number.isFinite(p.confidence)) s.missing++;
          else {
            s.p += calibrate(cal, p.confidence);
            s.ref += cal.reference_accuracy;
            s.n++;
            s.methods.add(cal.method);
          }
        }
      }
    }
    const out = new Map<number, ExpectedEstimate>();
    for (const [start, w] of sums) {
      const ok = (m: string) => w[m]!.missing === 0;
      const methods = new Set([...(ok(A) ? w[A]!.methods : []), ...(ok(B) ? w[B]!.methods : [])]);
      out.set(start, {
        a: ok(A) ? w[A]!.p / w[A]!.n : null,
        b: ok(B) ? w[B]!.p / w[B]!.n : null,
        referenceA: ok(A) ? w[A]!.ref / w[A]!.n : null,
        referenceB: ok(B) ? w[B]!.ref / w[B]!.n : null,
        methods: methods.size ? [...methods].sort().join(',') : null,
      });
    }
    return out;
  }

  function expectEstimates(rows: Map<number, ModelComparison>, expected: Map<number, ExpectedEstimate>, margin = 0.05) {
    expect(new Set(rows.keys())).toEqual(new Set(expected.keys()));
    const close = (got: number | null, want: number | null) =>
      want === null ? expect(got).toBeNull() : expect(got).toBeCloseTo(want, 12);
    for (const [start, row] of rows) {
      const want = expected.get(start)!;
      close(row.estimated_accuracy_a, want.a);
      close(row.estimated_accuracy_b, want.b);
      close(row.reference_accuracy_a, want.referenceA);
      close(row.reference_accuracy_b, want.referenceB);
      expect(row.estimate_method).toBe(want.methods);
      expect(row.estimate_alert_a).toBe(want.a === null ? null : want.a < want.referenceA! - margin);
      expect(row.estimate_alert_b).toBe(want.b === null ? null : want.b < want.referenceB! - margin);
    }
  }

  it('estimates each model accuracy per window from calibrated confidence before any label; labels leave it', () => {
    const asked: string[] = [];
    const calibrationFor: CalibrationFor = (model, version) => {
      asked.push(`${model}@${version}`);
      return calibrations.get(model)?.isotonic;
    };
    const stage = compareModels<Inferred<JobPosting>>('compare', {
      pipeline: 'postings',
      modelA: A,
      modelB: B,
      window: tumbling(MONTH),
      estimate: { calibrationFor },
    });
    const f = feeder(stage, new CommitTracker());
    f.feed('predictions', predicted);
    stage.onEnd!(f.out);
    const expected = bruteEstimates(predicted, (m) => calibrations.get(m)!.isotonic);
    const before = latest(f.rows);
    expectEstimates(before, expected);
    for (const row of before.values())
      expect([row.accuracy_a, row.accuracy_b, row.estimate_method]).toEqual([null, null, 'isotonic']);
    expect(asked).toEqual([`${A}@v1`, `${B}@v1`]); // asked once per version, then kept
    // Calibrated, not the raw confidence: somewhere they differ by more than a point.
    const rawA = (start: number) =>
      mean(
        predicted
          .filter((r) => Math.floor(r.eventTime / MONTH) * MONTH === start)
          .map((r) => r.value.predictions.find((p) => p.model_id === A)!.confidence),
      );
    expect(
      [...before.values()].some((row) => Math.abs(row.estimated_accuracy_a! - rawA(row.window_start)) > 0.01),
    ).toBe(true);

    f.feed('labels', labelRecords(truth));
    const after = latest(f.rows);
    expectEstimates(after, expected);
    const realized = bruteForce(predicted, truth);
    for (const [start, row] of after) expect(asExpected(row)).toEqual(realized.get(start));

    for (const row of after.values()) {
      const db = modelComparisonRow(row, 'run-1');
      expect(db).toMatchObject({
        estimated_accuracy_a: row.estimated_accuracy_a,
        estimated_accuracy_b: row.estimated_accuracy_b,
        reference_accuracy_a: row.reference_accuracy_a,
        estimate_method: 'isotonic',
      });
      expect([db.estimate_alert_a, db.estimate_alert_b]).toEqual([
        Number(row.estimate_alert_a),
        Number(row.estimate_alert_b),
      ]);
    }

    // Over the labelled windows: estimate against realized accuracy, and the reference both are held against.
    const labelled = [...after.values()].filter((r) => r.labeled > 0);
    const weighted = (pick: (r: ModelComparison) => number) =>
      labelled.reduce((s, r) => s + pick(r) * r.labeled, 0) / labelled.reduce((s, r) => s + r.labeled, 0);
    const summary = [A, B].map((m, i) => {
      const cal = calibrations.get(m)!.isotonic;
      const est = weighted((r) => (i ? r.estimated_accuracy_b! : r.estimated_accuracy_a!));
      const acc = weighted((r) => (i ? r.accuracy_b! : r.accuracy_a!));
      const alerts = [...after.values()].filter((r) => (i ? r.estimate_alert_b : r.estimate_alert_a)).length;
      return (
        `${m}: reference ${cal.reference_accuracy.toFixed(3)}, estimated ${est.toFixed(3)}, ` +
        `realized ${acc.toFixed(3)}, alerts in ${alerts}/${after.size} windows`
      );
    });
    console.log(`[compare cbpe] ${summary.join('; ')}`);
  });

  it('a version without calibration or a prediction without confidence empties the estimate; versions mix', () => {
    const starts = [...new Set(predicted.map((r) => Math.floor(r.eventTime / MONTH) * MONTH))];
    const [first, second, third] = [starts[0]!, starts[1]!, starts[2]!];
    const inWindow = (r: StreamRecord<Inferred<JobPosting>>, start: number) =>
      Math.floor(r.eventTime / MONTH) * MONTH === start;
    const ofSecond = predicted.filter((r) => inWindow(r, second));
    const secondHalf = new Set(ofSecond.slice(ofSecond.length >> 1).map((r) => r.key));
    const noConfidence = predicted.findIndex((r) => inWindow(r, third));
    const changed = predicted.map((r, i) => {
      const predictions = r.value.predictions.map((p) => {
        if (p.model_id === B && inWindow(r, first)) return { ...p, model_version: 'v2' }; // B@v2 has no calibration
        if (p.model_id === A && secondHalf.has(r.key)) return { ...p, model_version: 'v2' }; // A@v2 is Platt-calibrated
        if (p.model_id === A && i === noConfidence) return { ...p, confidence: Number.NaN };
        return p;
      });
      return { ...r, value: { ...r.value, predictions } };
    });
    const calibrationFor: CalibrationFor = (model, version) =>
      version === 'v1' ? calibrations.get(model)!.isotonic : model === A ? calibrations.get(A)!.platt : undefined;
    const stage = compareModels<Inferred<JobPosting>>('compare', {
      pipeline: 'postings',
      modelA: A,
      modelB: B,
      window: tumbling(MONTH),
      estimate: { calibrationFor, alertMargin: 0.02 },
    });
    const f = feeder(stage, new CommitTracker());
    f.feed('predictions', changed);
    stage.onEnd!(f.out);
    const rows = latest(f.rows);
    expectEstimates(rows, bruteEstimates(changed, calibrationFor), 0.02);
    expect(rows.get(first)).toMatchObject({
      model_b: `${B}@v2`,
      estimated_accuracy_b: null,
      estimate_alert_b: null,
      estimate_method: 'isotonic',
    });
    expect(rows.get(first)!.estimated_accuracy_a).not.toBeNull();
    expect(rows.get(second)).toMatchObject({ model_a: `${A}@v1,v2`, estimate_method: 'isotonic,platt' });
    expect(rows.get(second)!.estimated_accuracy_a).not.toBeNull();
    expect(rows.get(third)).toMatchObject({ estimated_accuracy_a: null, estimate_alert_a: null });
    expect(rows.get(third)!.estimated_accuracy_b).not.toBeNull();
  });

  it('alerts when the estimate falls below the reference accuracy minus the margin', () => {
    const run = (reference: number, alertMargin?: number) => {
      const cal = (m: string) => ({ ...calibrations.get(m)!.isotonic, reference_accuracy: reference });
      const stage = compareModels<Inferred<JobPosting>>('compare', {
        pipeline: 'postings',
        modelA: A,
        modelB: B,
        window: tumbling(MONTH),
        estimate: { calibrationFor: cal, alertMargin },
      });
      const f = feeder(stage, new CommitTracker());
      f.feed('predictions', predicted);
      stage.onEnd!(f.out);
      return [...latest(f.rows).values()];
    };
    const rows = run(1);
    expect(
      rows.every(
        (r) =>
          r.estimate_alert_a === r.estimated_accuracy_a! < 0.95 &&
          r.estimate_alert_b === r.estimated_accuracy_b! < 0.95,
      ),
    ).toBe(true);
    expect(rows.filter((r) => r.estimate_alert_a).length).toBeGreaterThan(0);
    expect(run(0).some((r) => r.estimate_alert_a || r.estimate_alert_b)).toBe(false);
    const wide = run(1, 0.6);
    expect(
      wide.every(
        (r) =>
          r.estimate_alert_a === r.estimated_accuracy_a! < 0.4 && r.estimate_alert_b === r.estimated_accuracy_b! < 0.4,
      ),
    ).toBe(true);
  });
});
