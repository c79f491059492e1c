import { describe, expect, it } from 'vitest';
import { readHn2026Truth } from '../../connectors/labels/hn-2026-truth.ts';
import type { Label } from '../../schemas/label.ts';
import { ArraySink } from '../../streams/kernel/memory/array-sink.ts';
import { MemoryTransport } from '../../streams/kernel/memory/memory-log.ts';
import { topicSource } from '../../streams/kernel/transport/topic-source.ts';
import type { Prediction } from '../../schemas/prediction.ts';
import { Pipeline } from '../../streams/kernel/pipeline.ts';
import { runPipeline } from '../../streams/kernel/runner.ts';
import { dataFile } from '../../test/data-dir.ts';
import { tumbling } from '../../streams/kernel/operators/window/window-spec.ts';
import {
  type PseudoLabel,
  type PseudoLabelInput,
  type PseudoLabelOutput,
  type PseudoLabelWindow,
  pseudoLabel,
} from './pseudo-label.ts';
import { pseudoLabelWindowRow } from './pseudo-label-rows.ts';

const WEEK = 7 * 86_400_000;
const T0 = Math.floor(Date.UTC(2026, 0, 5) / WEEK) * WEEK; // aligned with the tumbling windows (epoch-based)

interface Item {
  truth: number;
  prediction: Prediction;
}

const prediction = (record_id: string, model_id: string, p1: number): Prediction => ({
  record_id,
  model_id,
  model_version: 'v1',
  label: p1 > 0.5 ? 1 : 0,
  probabilities: [1 - p1, p1],
  confidence: Math.max(p1, 1 - p1),
  latency_ms: 0,
  predicted_at: 0,
});

type Input = { time: number; value: PseudoLabelInput<Item> };

async function run(inputs: Input[], options: { prior: number[]; pause?: boolean; keyed?: boolean }, batch = 50) {
  const transport = new MemoryTransport();
  await transport.ensureTopic('in', 1);
  const producer = await transport.producer();
  // keyed: each record keyed by its own id, as the postings pipeline keys predictions
  const keyOf = (x: Input) =>
    options.keyed && 'prediction' in x.value ? x.value.prediction.prediction.record_id : null;
  await producer.send(
    'in',
    inputs.map((x) => ({
      key: keyOf(x),
      value: Buffer.from(JSON.stringify(x.value)),
      timestamp: x.time,
      partition: 0,
    })),
  );
  const sink = new ArraySink<PseudoLabelOutput<Item>>('out');
  const alarms: PseudoLabelWindow[] = [];
  const p = new Pipeline('pseudo-label-test');
  p.from(topicSource(transport, { topic: 'in', group: 'g', maxBatchRecords: batch }))
    .map('parse', (b) => JSON.parse(b.toString()) as PseudoLabelInput<Item>)
    .through(
      pseudoLabel<Item>('pseudo-label', {
        pipeline: 'postings',
        prediction: (item) => item.prediction,
        targetModelId: 'postings-b',
        classPrior: options.prior,
        window: tumbling(WEEK) as ReturnType<typeof tumbling> & { type: 'tumbling' },
        pauseOnDrift: options.pause ?? true,
        onAlarm: (w) => alarms.push(w),
      }),
    )
    .to(sink);
  await runPipeline(p, { untilIdle: true });
  const labels = sink.values.filter((v): v is PseudoLabel<Item> => v.kind === 'label');
  const windows = sink.values.filter((v): v is PseudoLabelWindow => v.kind === 'window');
  return { labels, windows, alarms };
}

describe('pseudo-label on 2026 HN ground truth', () => {
  let truth: Label[];
  const load = async () => (truth ??= await readHn2026Truth(dataFile('postings', 'hn-hiring-2026')));

  /**
   * A deliberately biased Model A: confident (0.97) on every posting, and it calls 40 % of the software-engineering
   * postings data science. The labelled data's prior is ~93 % / 7 %.
   */
  function biasedA(labels: Label[]): Input[] {
    return labels
      .map((l, i) => {
        const wrong = l.label === 0 && i % 5 < 2;
        const p1 = l.label === 1 || wrong ? 0.97 : 0.03;
        return {
          time: T0 + (i % 6) * WEEK + i,
          value: { prediction: { truth: l.label, prediction: prediction(l.record_id, 'postings-a', p1) } },
        };
      })
      .sort((a, b) => a.time - b.time); // a stream arrives in event-time order
  }

  it('caps each class at its prior share of the confident predictions: a biased A cannot flood B', async () => {
    const labels = await load();
    const prior = [
      labels.filter((l) => l.label === 0).length / labels.length,
      labels.filter((l) => l.label === 1).length / labels.length,
    ];
    expect(prior[1]).toBeLessThan(0.1);
    const inputs = biasedA(labels);
    const { labels: accepted, windows } = await run(inputs, { prior, pause: false });
    expect(windows).toHaveLength(6);
    for (const w of windows) {
      expect(w.acceptedPerClass[1]).toBeLessThanOrEqual(Math.ceil(prior[1]! * w.confident));
      expect(w.acceptedPerClass[0]).toBeLessThanOrEqual(Math.ceil(prior[0]! * w.confident));
      expect(w.rejectedClassCap).toBeGreaterThan(0);
      expect(w.accepted + w.rejectedClassCap).toBe(w.confident);
    }
    // Without the cap 40 % of the software postings would become wrong class-1 labels; with it, far fewer.
    const wrongBefore =
      inputs.filter((x) => 'prediction' in x.value && x.value.prediction.prediction.label !== x.value.prediction.truth)
        .length / inputs.length;
    const wrongAfter = accepted.filter((a) => a.label !== a.value.truth).length / accepted.length;
    expect(wrongBefore).toBeGreaterThan(0.3);
    expect(wrongAfter).toBeLessThan(wrongBefore / 3);
    // the most confident of each class are the ones kept, and every accepted example came from A
    expect(accepted.every((a) => a.confidence > 0.9 && a.sourceModelId === 'postings-a')).toBe(true);
  });

  it("keeps one window over the stream whatever the records' keys (keyed records give the same windows)", async () => {
    const labels = await load();
    const prior = [
      labels.filter((l) => l.label === 0).length / labels.length,
      labels.filter((l) => l.label === 1).length / labels.length,
    ];
    const inputs = biasedA(labels);
    const unkeyed = await run(inputs, { prior, pause: false });
    const keyed = await run(inputs, { prior, pause: false, keyed: true });
    const predictions = inputs.filter((x) => 'prediction' in x.value).length;
    expect(keyed.windows.reduce((sum, w) => sum + w.predictions, 0)).toBe(predictions);
    expect(keyed.windows).toEqual(unkeyed.windows);
    expect(keyed.labels.map((l) => l.recordId)).toEqual(unkeyed.labels.map((l) => l.recordId));
    expect(keyed.labels.length).toBeGreaterThan(0);
  });

  it('pauses while drift-window reports dataset drift (either stream first); alarms if accepts collapse', async () => {
    const labels = (await load()).slice(0, 600);
    const prior = [0.9, 0.1];
    const items: Input[] = labels
      .map((l, i) => {
        const week = i % 4;
        // week 3: A is unsure of everything (0.6): nothing is confident → accept rate collapses
        const p1 = week === 3 ? 0.6 : l.label === 1 ? 0.96 : 0.04;
        // a few of B's own predictions slip in: never used as labels
        const model = i % 50 === 0 ? 'postings-b' : 'postings-a';
        return {
          time: T0 + week * WEEK + i,
          value: { prediction: { truth: l.label, prediction: prediction(l.record_id, model, p1) } },
        };
      })
      .sort((a, b) => a.time - b.time);
    const verdicts: Input[] = [0, 1, 2, 3].map((week) => ({
      time: T0 + week * WEEK + WEEK - 1,
      value: { drift: { windowStart: T0 + week * WEEK, datasetDrift: week === 1 } },
    }));
    const first = await run([...verdicts, ...items], { prior }, 37);
    const last = await run([...items, ...verdicts], { prior }, 11);
    expect(last.windows).toEqual(first.windows);
    expect(last.labels.map((l) => l.recordId).sort()).toEqual(first.labels.map((l) => l.recordId).sort());

    const byWeek = first.windows.sort((a, b) => a.windowStart - b.windowStart);
    expect(byWeek.map((w) => w.paused)).toEqual([false, true, false, false]);
    expect(byWeek[1]!.accepted).toBe(0);
    expect(byWeek[1]!.rejectedDriftPause).toBe(byWeek[1]!.confident);
    expect(byWeek[1]!.alarm).toBe(false); // paused on purpose: no alarm
    expect(byWeek[0]!.accepted).toBeGreaterThan(100);
    expect(byWeek[3]!.confident).toBe(0);
    expect(byWeek[3]!.alarm).toBe(true);
    expect(first.alarms.map((a) => a.windowStart)).toEqual([byWeek[3]!.windowStart]);
    for (const w of byWeek)
      expect(w.rejectedOwnModel).toBe(
        items.filter(
          (x) =>
            'prediction' in x.value &&
            x.value.prediction.prediction.model_id === 'postings-b' &&
            Math.floor((x.time - T0) / WEEK) === (w.windowStart - T0) / WEEK,
        ).length,
      );
    expect(first.labels.some((l) => l.sourceModelId === 'postings-b')).toBe(false);
    expect(pseudoLabelWindowRow(byWeek[3]!, 'run').alarm).toBe(1);
  });
});
