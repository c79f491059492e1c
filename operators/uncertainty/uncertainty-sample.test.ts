/**
 * uncertainty-sample on real data: Model A (the postings classifier) is trained on the Glassdoor 2020 files, exported
 * to ONNX and run by `infer` on every HN 2026 job of every collection run, in event-time order — re-posts and
 * repeated runs included, so the stream carries the near-duplicates the operator must not queue twice. The queue is
 * compared with a brute-force selection over every prediction of each weekly window.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArraySink } from '../../streams/kernel/memory/array-sink.ts';
import { MemoryTransport } from '../../streams/kernel/memory/memory-log.ts';
import { topicSource } from '../../streams/kernel/transport/topic-source.ts';
import { TABLES } from '../../connectors/warehouse/tables.ts';
import { rowValidator } from '../../connectors/warehouse/validate.ts';
import { exportMlpToOnnx } from '../../models/postings/export.ts';
import { FEATURE_DIM, featurize } from '../../models/postings/features.ts';
import { DEFAULT_POSTINGS_CONFIG, trainPostingsModel } from '../../models/postings/train.ts';
import { AckToken } from '../../streams/kernel/ack.ts';
import { Pipeline } from '../../streams/kernel/pipeline.ts';
import type { StreamRecord } from '../../streams/kernel/record.ts';
import { runPipeline } from '../../streams/kernel/runner.ts';
import type { Batch, StageOutput } from '../../streams/kernel/stage.ts';
import { dataDir, dataFile } from '../../test/data-dir.ts';
import { type InferStage, type Inferred, infer } from '../infer/infer.ts';
import { type NormalizedFrame, normalizeFrame } from '../normalize/frame.ts';
import { type JobPosting, normalizePosting } from '../normalize/index.ts';
import { countWindow, tumbling } from '../../streams/kernel/operators/window/window-spec.ts';
import { labelQueueRow } from './label-queue-row.ts';
import { frameKey, hammingDistance, perceptualHash, postingKey } from './near-duplicate.ts';
import { type LabelQueueEntry, type UncertaintySampleOptions, uncertaintySample } from './uncertainty-sample.ts';
import { type UncertaintyMethod, topProbability, uncertainty } from './uncertainty-scores.ts';

const WEEK = 7 * 86_400_000;
const BUDGET = 30;
const QUOTA = Math.ceil(BUDGET / 2); // the default for two classes
const BAND: [number, number] = [0.4, 0.7];

type Item = Inferred<JobPosting>;

let predict: InferStage<JobPosting>;
/** Every prediction of the real pipeline, in stream order. */
let predictions: StreamRecord<Item>[];
/** What the operator queued in that same pipeline (margin, default options). */
let queuedLive: LabelQueueEntry[];

/** HN 2026 jobs of every run (the connector would drop repeated ids: here they stay), in event-time order. */
function hnStream(): JobPosting[] {
  const dir = dataFile('postings', 'hn-hiring-2026');
  const jobs: JobPosting[] = [];
  for (const run of readdirSync(dir).sort()) {
    const file = JSON.parse(readFileSync(`${dir}/${run}/raw.json`, 'utf8')) as {
      date: string;
      fetched_at: string;
      jobs: unknown[];
    };
    for (const job of file.jobs)
      jobs.push(
        normalizePosting({
          raw: Buffer.from(JSON.stringify(job)),
          source: 'hn-2026',
          value: { run: file.date, fetched_at: file.fetched_at, job },
        }),
      );
  }
  return jobs
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.posted_at! - b.p.posted_at! || a.i - b.i)
    .map((x) => x.p);
}

const sampler = (overrides: Partial<UncertaintySampleOptions<Item>> = {}) =>
  uncertaintySample<Item>('uncertainty', {
    pipeline: 'postings',
    prediction: (v) => v.predictions[0]!,
    window: tumbling(WEEK),
    budget: BUDGET,
    dedupKey: (v) => postingKey(v.input),
    ...overrides,
  });

/** Replays the recorded predictions through the operator alone (no model): cheap, for the variants. */
async function replay(
  overrides: Partial<UncertaintySampleOptions<Item>> = {},
  maxBatchRecords = 500,
): Promise<LabelQueueEntry[]> {
  const transport = new MemoryTransport();
  await transport.ensureTopic('predictions', 1);
  const producer = await transport.producer();
  await producer.send(
    'predictions',
    predictions.map((r) => ({
      key: r.key,
      value: Buffer.from(JSON.stringify(r.value)),
      timestamp: r.eventTime,
      partition: 0,
    })),
  );
  const queue = new ArraySink<LabelQueueEntry>('queue');
  const p = new Pipeline('uncertainty-replay');
  p.from(topicSource(transport, { topic: 'predictions', group: 'g', maxBatchRecords }))
    .map('parse', (b) => JSON.parse(b.toString()) as Item)
    .through(sampler(overrides))
    .to(queue);
  await runPipeline(p, { untilIdle: true });
  return queue.values;
}

interface Scored {
  order: number;
  window: number;
  id: string;
  key: string;
  label: number;
  top: number;
  score: number;
}

const moreUncertain = (a: Scored, b: Scored) => b.score - a.score || a.order - b.order;

/**
 * The definition, computed over every prediction: per window (in time order), the in-band predictions whose id and
 * text were not queued before; duplicates (same id or same text, transitively) count once, as their most uncertain
 * member; then each class up to its quota, most uncertain first, then (fill) the rest of the budget.
 */
function bruteForce(method: UncertaintyMethod, fill: boolean) {
  const scored: Scored[] = predictions.map((r, order) => {
    const p = r.value.predictions[0]!.probabilities;
    return {
      order,
      window: Math.floor(r.eventTime / WEEK) * WEEK,
      id: r.value.predictions[0]!.record_id,
      key: postingKey(r.value.input),
      label: p.indexOf(Math.max(...p)),
      top: topProbability(p),
      score: uncertainty(method, p),
    };
  });
  const windows = new Map<number, Scored[]>();
  for (const s of scored) (windows.get(s.window) ?? windows.set(s.window, []).get(s.window)!).push(s);
  const queuedIds = new Set<string>();
  const queuedKeys = new Set<string>();
  const out: { window: number; picks: Scored[]; groups: Scored[]; duplicates: number }[] = [];
  for (const [window, members] of [...windows].sort((a, b) => a[0] - b[0])) {
    const inBand = members.filter((s) => s.top >= BAND[0] && s.top <= BAND[1]);
    const eligible = inBand.filter((s) => !queuedIds.has(s.id) && !queuedKeys.has(s.key));
    const parent = eligible.map((_, i) => i);
    const find = (i: number): number => {
      if (parent[i] !== i) parent[i] = find(parent[i]!);
      return parent[i]!;
    };
    const firstBy = new Map<string, number>();
    eligible.forEach((s, i) => {
      for (const k of [`id:${s.id}`, `key:${s.key}`]) {
        const j = firstBy.get(k);
        if (j === undefined) firstBy.set(k, i);
        else parent[find(i)] = find(j);
      }
    });
    const best = new Map<number, Scored>();
    eligible.forEach((s, i) => {
      const root = find(i);
      const b = best.get(root);
      if (!b || moreUncertain(s, b) < 0) best.set(root, s);
    });
    const groups = [...best.values()].sort(moreUncertain);
    const picks: Scored[] = [];
    const taken = [0, 0];
    for (const s of groups) if (picks.length < BUDGET && taken[s.label]! < QUOTA && ++taken[s.label]!) picks.push(s);
    if (fill) for (const s of groups) if (picks.length < BUDGET && !picks.includes(s)) picks.push(s);
    picks.sort(moreUncertain);
    for (const s of picks) {
      queuedIds.add(s.id);
      queuedKeys.add(s.key);
    }
    out.push({ window, picks, groups, duplicates: inBand.length - groups.length });
  }
  return out;
}

const byWindow = (entries: LabelQueueEntry[]) => {
  const m = new Map<number, LabelQueueEntry[]>();
  for (const e of entries) (m.get(e.windowStart) ?? m.set(e.windowStart, []).get(e.windowStart)!).push(e);
  return m;
};
const ids = (entries: LabelQueueEntry[]) => entries.map((e) => `${e.windowStart}:${e.recordId}`);

beforeAll(async () => {
  const trained = await trainPostingsModel(DEFAULT_POSTINGS_CONFIG, dataDir());
  const onnx = exportMlpToOnnx(trained.weights);
  trained.model.dispose();
  const jobs = hnStream();

  const transport = new MemoryTransport();
  await transport.ensureTopic('hn-2026', 1);
  const producer = await transport.producer();
  await producer.send(
    'hn-2026',
    jobs.map((p) => ({ key: p.id, value: Buffer.from(JSON.stringify(p)), timestamp: p.posted_at!, partition: 0 })),
  );
  predict = infer<JobPosting>('predict', {
    models: [{ id: 'postings-a' }],
    featureShape: [FEATURE_DIM],
    toInput: (p) => featurize(p),
    resolveModel: async (ref) => ({ id: ref.id, version: 'v1', bytes: onnx }),
  });
  const all = new ArraySink<Item>('predictions');
  const queue = new ArraySink<LabelQueueEntry>('label-queue');
  const p = new Pipeline('postings');
  const predicted = p
    .from(topicSource(transport, { topic: 'hn-2026', group: 'g', maxBatchRecords: 200 }))
    .map('parse', (b) => JSON.parse(b.toString()) as JobPosting)
    .through(predict);
  predicted.to(all); // the main stream carries on…
  predicted.through(sampler()).to(queue); // …and the sampler is a side branch of it
  await runPipeline(p, { untilIdle: true });
  predictions = all.records;
  queuedLive = queue.values;
  expect(predictions).toHaveLength(jobs.length);
}, 300_000);

afterAll(async () => {
  await predict?.close();
});

describe('uncertainty-sample on real HN 2026 predictions of Model A', () => {
  it('queues exactly the brute-force selection: the most uncertain eligible predictions, per weekly window', () => {
    const expected = bruteForce('margin', true);
    expect(ids(queuedLive)).toEqual(expected.flatMap((w) => w.picks.map((s) => `${w.window}:${s.id}`)));
    // scores, ranks and window bounds are those of the predictions they came from
    const scoreOf = new Map(expected.flatMap((w) => w.picks.map((s) => [s.id, s.score])));
    for (const [start, entries] of byWindow(queuedLive)) {
      entries.forEach((e, i) => {
        expect(e.rank).toBe(i + 1);
        expect(e.score).toBe(scoreOf.get(e.recordId));
        expect([e.windowStart, e.windowEnd]).toEqual([start, start + WEEK]);
      });
    }
    // the selection mattered: several windows had more distinct eligible predictions than budget
    expect(expected.filter((w) => w.groups.length > BUDGET).length).toBeGreaterThan(3);
    const inBand = predictions.filter(
      (r) => BAND[0] <= r.value.predictions[0]!.confidence && r.value.predictions[0]!.confidence <= BAND[1],
    ).length;
    console.log(
      `[uncertainty] ${predictions.length} predictions, ${inBand} in band, ${expected.length} weekly windows ` +
        `(${expected.filter((w) => w.groups.length > BUDGET).length} over budget), ` +
        `${queuedLive.length} queued, ${expected.reduce((n, w) => n + w.duplicates, 0)} in-band duplicates skipped`,
    );
  });

  it('respects the budget per window and keeps every queued top probability in the band', () => {
    const windows = byWindow(queuedLive);
    expect(windows.size).toBeGreaterThan(10);
    for (const entries of windows.values()) expect(entries.length).toBeLessThanOrEqual(BUDGET);
    expect([...windows.values()].some((e) => e.length === BUDGET)).toBe(true);
    // by source position: a job edited between collection runs comes back under its id with another prediction
    const byOffset = new Map(predictions.map((r) => [`hn-2026/0@${r.position.offset}`, r.value.predictions[0]!]));
    for (const e of queuedLive) {
      expect(e.topProbability).toBeGreaterThanOrEqual(BAND[0]);
      expect(e.topProbability).toBeLessThanOrEqual(BAND[1]);
      const p = byOffset.get(e.payloadRef)!;
      expect(p.record_id).toBe(e.recordId);
      expect(e.topProbability).toBeCloseTo(p.confidence, 6);
      expect(e.predictedLabel).toBe(p.label);
      expect([e.modelId, e.modelVersion, e.method, e.pipeline]).toEqual(['postings-a', 'v1', 'margin', 'postings']);
      expect(e.reason).toMatch(
        new RegExp(
          `^margin uncertainty ${e.score.toFixed(3)}, top ${e.topProbability.toFixed(3)} in \\[0.4, 0.7\\], ` +
            `#${e.rank} in window; `,
        ),
      );
    }
  });

  it('never queues a re-posted job twice, within a window or across windows', () => {
    const keyOf = new Map(predictions.map((r) => [r.value.predictions[0]!.record_id, postingKey(r.value.input)]));
    expect(new Set(queuedLive.map((e) => e.recordId)).size).toBe(queuedLive.length);
    expect(new Set(queuedLive.map((e) => keyOf.get(e.recordId))).size).toBe(queuedLive.length);
    // and there were duplicates to skip: in-band predictions of an item already queued or counted in the window
    expect(bruteForce('margin', true).reduce((n, w) => n + w.duplicates, 0)).toBeGreaterThan(50);
  });

  it('holds the class quota; a class goes over it only with budget the other class could not use', () => {
    const expected = new Map(bruteForce('margin', true).map((w) => [w.window, w]));
    let filled = 0;
    for (const [start, entries] of byWindow(queuedLive)) {
      const perClass = [0, 1].map((c) => entries.filter((e) => e.predictedLabel === c).length);
      const available = [0, 1].map((c) => expected.get(start)!.groups.filter((s) => s.label === c).length);
      for (const c of [0, 1]) {
        const over = entries.filter((e) => e.predictedLabel === c && e.reason.includes('over its quota')).length;
        expect(over).toBe(Math.max(0, perClass[c]! - QUOTA));
        if (perClass[c]! > QUOTA) {
          filled++;
          expect(perClass[1 - c]).toBe(available[1 - c]); // the other class had nothing more to give
        }
      }
    }
    expect(filled).toBeGreaterThan(0); // real windows where one class ran short
  });

  it('without filling, a class never exceeds its quota, and the selection is still the brute-force one', async () => {
    const strict = await replay({ fillUnusedQuota: false });
    expect(ids(strict)).toEqual(bruteForce('margin', false).flatMap((w) => w.picks.map((s) => `${w.window}:${s.id}`)));
    for (const entries of byWindow(strict).values())
      for (const c of [0, 1]) expect(entries.filter((e) => e.predictedLabel === c).length).toBeLessThanOrEqual(QUOTA);
    expect(strict.length).toBeLessThan(queuedLive.length);
  });

  it('margin, entropy and least confidence queue the same predictions for two classes', async () => {
    const [entropy, least] = [await replay({ method: 'entropy' }), await replay({ method: 'least_confidence' })];
    expect(ids(entropy)).toEqual(ids(queuedLive));
    expect(ids(least)).toEqual(ids(queuedLive));
    expect(entropy[0]!.score).not.toBe(queuedLive[0]!.score); // other numbers, same order
  });

  it('does not depend on batching, and replays to identical label_queue rows', async () => {
    const one = await replay({}, 1);
    const big = await replay({}, 2500);
    const rows = (es: LabelQueueEntry[]) => es.map((e) => ({ ...labelQueueRow(e), payload_ref: null }));
    expect(rows(one)).toEqual(rows(queuedLive));
    expect(rows(big)).toEqual(rows(queuedLive));
    // payload_ref: by default the source position, which holds the queued job
    for (const e of queuedLive.slice(0, 20)) {
      const offset = Number(/^hn-2026\/0@(\d+)$/.exec(e.payloadRef)![1]);
      expect(predictions.find((r) => r.position.offset === offset)!.value.predictions[0]!.record_id).toBe(e.recordId);
    }
  });

  it('remembers queued items only up to its bound: without memory, re-posts come back in later windows', async () => {
    const forgetful = await replay({ remember: 0 });
    const keyOf = new Map(predictions.map((r) => [r.value.predictions[0]!.record_id, postingKey(r.value.input)]));
    const keys = forgetful.map((e) => keyOf.get(e.recordId));
    expect(keys.length - new Set(keys).size).toBeGreaterThan(0);
    // within one window duplicates still count once
    for (const entries of byWindow(forgetful).values())
      expect(new Set(entries.map((e) => keyOf.get(e.recordId))).size).toBe(entries.length);
  });

  it('builds label_queue rows with exactly the table columns and their types', () => {
    const valid = rowValidator(TABLES.label_queue);
    for (const e of queuedLive) expect(valid(labelQueueRow(e))).toBeUndefined();
    const row = labelQueueRow(queuedLive[0]!);
    expect(Object.keys(row)).toEqual(TABLES.label_queue.columns.map((c) => c.name));
    expect(row.id).toBe(`${queuedLive[0]!.recordId}/postings-a`);
    expect(row.queued_at).toBe(queuedLive[0]!.windowEnd);
  });
});

describe('uncertainty-sample, stage level', () => {
  const prediction = (id: string, p1: number) => ({
    record_id: id,
    model_id: 'm',
    model_version: 'v1',
    label: p1 > 0.5 ? 1 : 0,
    probabilities: [1 - p1, p1],
    confidence: Math.max(p1, 1 - p1),
    latency_ms: 0,
    predicted_at: 0,
  });
  const record = <T>(value: T, offset: number, eventTime = offset): StreamRecord<T> => ({
    key: null,
    value,
    eventTime,
    headers: {},
    position: { topic: 't', partition: 0, offset },
  });

  function collector<O>() {
    const batches: Batch<O>[] = [];
    const dead: string[] = [];
    const out: StageOutput<O> = {
      emit: (b) => batches.push(b),
      emitSide: () => {},
      deadLetter: (_r, e) => dead.push((e as Error).message),
    };
    return { out, batches, dead };
  }

  it('passes on the acknowledgements of the batches its entries came from and releases the rest', async () => {
    const stage = uncertaintySample<ReturnType<typeof prediction>>('u', {
      pipeline: 'p',
      prediction: (v) => v,
      window: countWindow(6),
      budget: 1,
    });
    const { out, batches } = collector<LabelQueueEntry>();
    const done = new Set<number>();
    // 4 source batches of 3 records → 2 windows of 6; the most uncertain of each window sits in batch 1 and batch 2
    const p1s = [
      [0.9, 0.62, 0.68],
      [0.51, 0.66, 0.95],
      [0.69, 0.55, 0.6],
      [0.99, 0.97, 0.98],
    ];
    const tokens = p1s.map((_, b) => new AckToken('t', 0, b, () => done.add(b)));
    for (const [b, ps] of p1s.entries()) {
      await stage.onBatch(
        { records: ps.map((p1, i) => record(prediction(`r${b}${i}`, p1), b * 3 + i)), tokens: [tokens[b]!] },
        out,
      );
    }
    await stage.onEnd!(out);
    expect(batches.flatMap((b) => b.records.map((r) => r.value.recordId))).toEqual(['r10', 'r21']);
    expect([...done].sort()).toEqual([0, 3]); // no entry from these: released
    expect(batches.map((b) => b.tokens.map((t) => t.nextOffset))).toEqual([[1], [2]]);
    for (const b of batches) for (const t of b.tokens) t.release(); // the sink acknowledges
    expect([...done].sort()).toEqual([0, 1, 2, 3]);
  });

  it('dead-letters unusable predictions and refuses overlapping windows', async () => {
    const dedupKey = (v: { record_id: string }) => {
      if (v.record_id === 'boom') throw new Error('no text to key');
      return v.record_id.toUpperCase();
    };
    const stage = uncertaintySample<ReturnType<typeof prediction>>('u', {
      pipeline: 'p',
      prediction: (v) => v,
      window: countWindow(10),
      budget: 2,
      dedupKey,
    });
    const { out, dead } = collector<LabelQueueEntry>();
    const bad = { ...prediction('bad', 0.6), probabilities: [Number.NaN, 0.6] };
    const records = [
      record(bad, 0),
      record(prediction('ok', 0.6), 1),
      { ...record(prediction('t', 0.6), 2), eventTime: Number.NaN },
      record(prediction('boom', 0.55), 3),
    ];
    await stage.onBatch({ records, tokens: [] }, out);
    expect(dead).toEqual([
      'probability 0 is NaN: probabilities must be finite and non-negative',
      'event time is not a finite number: NaN',
      'no text to key',
    ]);
    expect(() =>
      uncertaintySample('u', {
        pipeline: 'p',
        prediction: (v: never) => v,
        window: { type: 'hopping', sizeMs: 10, hopMs: 5 },
        budget: 1,
      }),
    ).toThrow('hopping windows overlap');
    expect(() =>
      uncertaintySample('u', { pipeline: 'p', prediction: (v: never) => v, window: countWindow(1), budget: 0 }),
    ).toThrow('budget must be a positive integer');
    expect(() =>
      uncertaintySample('u', {
        pipeline: 'p',
        prediction: (v: never) => v,
        window: countWindow(1),
        budget: 1,
        band: [0.8, 0.6],
      }),
    ).toThrow('band [0.8, 0.6]');
  });

  it('never queues a near-identical NEU-DET frame twice, within a window or across windows', async () => {
    const dir = dataFile('frames', 'neu-det', 'images');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .filter((_, i) => i % 30 === 0);
    const classes = [...new Set(files.map((f) => f.replace(/_\d+\.jpg$/, '')))];
    const originals = await Promise.all(
      files.map((f, i) =>
        normalizeFrame({
          camera_id: 'neu',
          sequence: i,
          captured_at: i,
          width: 200,
          height: 200,
          channels: 1,
          encoding: 'jpeg',
          data: readFileSync(`${dir}/${f}`),
        }),
      ),
    );
    expect(originals.length - 20).toBeLessThanOrEqual(40); // the later originals fit one window's budget
    // A stand-in classifier (no frames model is trained here): in-band probabilities that vary with the pixels.
    type Shot = { id: string; frame: NormalizedFrame; label: number };
    const shot = (id: string, frame: NormalizedFrame, label: number): Shot => ({ id, frame, label });
    const predictionOf = (s: Shot) => {
      const top = 0.5 + 0.19 * ((s.frame.brightness * 997 + s.frame.contrast * 991) % 1);
      const probabilities = s.label === 0 ? [top, 1 - top] : [1 - top, top];
      return { ...prediction(s.id, 0.5), label: s.label, probabilities, confidence: top };
    };
    const copyOf = (f: NormalizedFrame) => ({
      ...f,
      tensor: f.tensor.map((v, i) => Math.min(1, v + 0.03 + ((i * 7919) % 13) / 1300)),
    });
    const o = originals.map((f, i) => shot(`o${i}`, f, classes.indexOf(files[i]!.replace(/_\d+\.jpg$/, '')) % 2));
    const c = originals.map((f, i) => shot(`c${i}`, copyOf(f), o[i]!.label));
    // window [0,100): originals 0–19 each next to its copy; [100,200): the other originals; [200,300): their copies
    const timed = [
      ...o
        .slice(0, 20)
        .flatMap((x, i) => [x, c[i]!])
        .map((s, i) => ({ s, t: i })),
      ...o.slice(20).map((s, i) => ({ s, t: 100 + i })),
      ...c.slice(20).map((s, i) => ({ s, t: 200 + i })),
    ];
    const stage = uncertaintySample<Shot>('frames', {
      pipeline: 'frames',
      prediction: predictionOf,
      window: tumbling(100),
      budget: 40,
      dedupKey: (s) => frameKey(s.frame),
    });
    const { out, batches } = collector<LabelQueueEntry>();
    for (let i = 0; i < timed.length; i += 7)
      await stage.onBatch(
        { records: timed.slice(i, i + 7).map(({ s, t }, k) => record(s, i + k, t)), tokens: [] },
        out,
      );
    await stage.onEnd!(out);
    const queued = new Set(batches.flatMap((b) => b.records.map((r) => r.value.recordId)));
    for (let i = 0; i < 20; i++) expect(Number(queued.has(`o${i}`)) + Number(queued.has(`c${i}`))).toBe(1);
    for (let i = 20; i < o.length; i++) {
      expect(queued.has(`o${i}`)).toBe(true);
      expect(queued.has(`c${i}`)).toBe(false);
    }
    // the copies really are near-identical, and different frames are not: the hash decides, not the ids
    const byId = new Map([...o, ...c].map((s) => [s.id, perceptualHash(s.frame)]));
    const q = [...queued];
    for (let i = 0; i < q.length; i++)
      for (let j = i + 1; j < q.length; j++)
        expect(hammingDistance(byId.get(q[i]!)!, byId.get(q[j]!)!)).toBeGreaterThan(10);
  });
});
