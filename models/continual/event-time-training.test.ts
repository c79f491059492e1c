/**
 * Model B's training in event time: the feed's order, the version timeline, and the trainer deciding fine-tunes at
 * event times — with a real fine-tune worker (a small MLP, real ONNX), fed in two interleavings and with fine-tunes
 * of 0.1 s and 1 s (a tenfold difference), giving the same runs and the same version for every event time.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportMlpToOnnx } from '../postings/export.ts';
import { FEATURE_DIM } from '../postings/features.ts';
import { ModelRegistry } from '../registry/registry.ts';
import { rng } from '../seeded-random.ts';
import { EventTimeFeed, type TimedExample } from './event-time-feed.ts';
import { FineTuneWorker } from './fine-tune-client.ts';
import { isHeldOut } from './holdout-split.ts';
import { ModelBTrainer } from './model-b-trainer.ts';
import { type TrainingExample, trainingSetHash } from './training-example.ts';
import type { TrainingRun } from './training-run.ts';
import { VersionTimeline } from './version-timeline.ts';

const HOLDOUT = { fraction: 0.25, seed: 2026 };
const DAY = 86_400_000;

const TEXTS = [
  { title: 'Data Scientist', description: 'python pandas statistics machine learning models experiments' },
  { title: 'Software Engineer', description: 'java backend services kubernetes api design' },
];
const example = (id: string, label: number, source: 'human' | 'pseudo'): TrainingExample => ({
  record_id: id,
  text: { title: `${TEXTS[1 - label]!.title} ${id}`, description: TEXTS[1 - label]!.description },
  label,
  source,
  source_model: source === 'human' ? 'tester' : 'postings-a@v1',
  event_time: 0,
});

describe('EventTimeFeed', () => {
  const timed = (id: string, at: number, source: 'human' | 'pseudo' = 'human'): TimedExample => ({
    example: example(id, 0, source),
    availableAt: at,
  });

  it('hands examples on only up to every producer’s progress, in one order whatever the interleaving', () => {
    const one = new EventTimeFeed(['human', 'pseudo']);
    one.push('human', [timed('b', 10), timed('a', 10), timed('c', 30)], 40);
    expect(one.take(), 'pseudo has reported nothing yet').toEqual([]);
    one.push('pseudo', [timed('p', 20, 'pseudo')], 25);
    expect(one.take().map((e) => e.example.record_id)).toEqual(['a', 'b', 'p']);
    expect(one.frontier()).toBe(25);
    one.push('pseudo', [], Infinity);
    expect(one.take().map((e) => e.example.record_id)).toEqual(['c']);

    const other = new EventTimeFeed(['human', 'pseudo']);
    other.push('pseudo', [timed('p', 20, 'pseudo')], 25);
    other.push('human', [timed('c', 30)], 5);
    other.push('human', [timed('a', 10), timed('b', 10)], 40);
    const before = other.take();
    other.push('pseudo', [], Infinity);
    expect([...before, ...other.take()].map((e) => e.example.record_id)).toEqual(['a', 'b', 'p', 'c']);
  });

  it('refuses an example from before its producer’s own progress, and unknown producers', () => {
    const feed = new EventTimeFeed(['human']);
    feed.push('human', [], 100);
    expect(() => feed.push('human', [timed('x', 100)], 200)).toThrow('before its own progress 100');
    expect(() => feed.push('pseudo', [], 1)).toThrow('unknown example producer "pseudo"');
  });
});

describe('VersionTimeline', () => {
  it('gives the newest version whose start is at or before the event time', () => {
    const timeline = new VersionTimeline('v1');
    timeline.add(1001, 'v2');
    timeline.add(5001, 'v4');
    expect([
      timeline.at(-1e15),
      timeline.at(1000),
      timeline.at(1001),
      timeline.at(5000),
      timeline.at(5001),
      timeline.at(9e15),
    ]).toEqual(['v1', 'v1', 'v2', 'v2', 'v4', 'v4']);
    expect(() => timeline.add(5001, 'v5')).toThrow('not after v4');
  });
});

/**
 * A stream of 400 labelled postings over 40 days: human labels usable when they arrive (some held out), pseudo-labels
 * in daily windows usable when their window closes, and a few human labels stamped far in the future.
 */
function stream() {
  const random = rng(11);
  const human: TimedExample[] = [];
  const pseudo: TimedExample[] = [];
  for (let i = 0; i < 400; i++) {
    const at = Math.floor((i / 400) * 40 * DAY);
    const label = random() < 0.5 ? 1 : 0;
    if (i % 3 === 0)
      pseudo.push({ example: example(`r${i}`, label, 'pseudo'), availableAt: (Math.floor(at / DAY) + 1) * DAY });
    else human.push({ example: example(`r${i}`, label, 'human'), availableAt: at });
  }
  // labelled on day 30 for postings of days 0–2: usable only from day 30, never earlier
  const future = human.filter((e) => e.availableAt < 2 * DAY && !isHeldOut(e.example.record_id, HOLDOUT)).slice(0, 5);
  for (const e of future) e.availableAt = 30 * DAY;
  human.sort((a, b) => a.availableAt - b.availableAt);
  return { human, pseudo, future: new Set(future.map((e) => e.example.record_id)) };
}

/**
 * Feeds the stream in chunks (human in steps of `humanStep`, pseudo in steps of `pseudoStep` days); records versions
 * per day.
 */
async function train(home: string, options: { humanStep: number; pseudoStep: number; delayMs: number }) {
  const registry = new ModelRegistry({ manifestPath: join(home, 'models.json'), home });
  const random = rng(5);
  const values = (n: number) => Float32Array.from({ length: n }, () => (random() - 0.5) * 0.01);
  if (registry.list('postings-a').length === 0) {
    registry.register({
      id: 'postings-a',
      kind: 'postings',
      onnx: exportMlpToOnnx({
        sizes: [FEATURE_DIM, 4, 2],
        w1: values(FEATURE_DIM * 4),
        b1: values(4),
        w2: values(8),
        b2: values(2),
      }),
      datasetHash: 'd',
      configHash: 'c',
      stage: 'production',
    });
  }
  const runs: TrainingRun[] = [];
  const trainer = new ModelBTrainer({
    registry,
    modelA: { id: 'postings-a' },
    runId: 'test',
    holdout: HOLDOUT,
    triggers: { everyNewLabels: 60, minHoldout: 10 },
    fineTune: { epochs: 3, learningRate: 0.05 }, // a random small A: learn fast enough to be promoted
    clock: 'event-time',
    producers: ['human', 'pseudo'],
    worker: new FineTuneWorker({ delayMs: options.delayMs }),
    onRun: (_, run) => runs.push(run),
  });
  trainer.start();
  const { human, pseudo } = stream();
  const versions: string[] = [];
  let h = 0;
  for (let day = 0; day <= 40; day += 1) {
    // the barrier's view: each day's records are scored once the version for that time is decided
    const until = (day + 1) * DAY;
    if (day % options.pseudoStep === 0) {
      const upTo = (day + options.pseudoStep) * DAY;
      trainer.feed(
        'pseudo',
        pseudo.filter((e) => e.availableAt > day * DAY && e.availableAt <= upTo),
        upTo,
      );
    }
    while (h < human.length && human[h]!.availableAt < until) {
      const chunk = human.slice(h, h + options.humanStep).filter((e) => e.availableAt < until);
      h += chunk.length;
      trainer.feed('human', chunk, chunk.at(-1)!.availableAt - 1);
    }
    trainer.feed('human', [], until - 1);
    await trainer.whenDecided(until - 1);
    versions.push(trainer.versionAt(until - 1));
  }
  trainer.feed('human', human.slice(h), Infinity);
  trainer.feed('pseudo', [], Infinity);
  await trainer.close();
  return { runs, versions, registry };
}

const decisions = (runs: TrainingRun[]) =>
  runs.map((r) => ({
    at: r.triggerEventTime,
    from: r.inForceFrom,
    version: r.version,
    parent: r.parent,
    data: r.datasetHash,
    pseudo: r.pseudoExamples,
    human: r.humanExamples,
    holdout: r.holdoutSize,
    promoted: r.promoted,
    accuracy: r.candidate.accuracy,
  }));

describe('ModelBTrainer in event time', () => {
  it('gives the same fine-tunes and version per event time whatever the interleaving and training speed', async () => {
    const fast = await train(mkdtempSync(join(tmpdir(), 'driftline-et-fast-')), {
      humanStep: 7,
      pseudoStep: 1,
      delayMs: 100,
    });
    const slow = await train(mkdtempSync(join(tmpdir(), 'driftline-et-slow-')), {
      humanStep: 50,
      pseudoStep: 3,
      delayMs: 1000,
    });
    expect(fast.runs.length, 'fine-tunes ran').toBeGreaterThanOrEqual(2);
    expect(
      fast.runs.some((r) => r.promoted),
      'a candidate was promoted',
    ).toBe(true);
    expect(decisions(slow.runs)).toEqual(decisions(fast.runs));
    expect(slow.versions).toEqual(fast.versions);
    expect(new Set(fast.versions).size, 'B changed version during the stream').toBeGreaterThan(1);
    // every promoted version is in force from just after its trigger, in the registry too
    for (const r of fast.runs.filter((r) => r.promoted)) {
      expect(r.inForceFrom).toBe(r.triggerEventTime! + 1);
      expect(fast.registry.get('postings-b', r.version).in_force_from).toBe(new Date(r.inForceFrom!).toISOString());
    }
  }, 120_000);

  it('never trains on a label before its time: a trigger at T trains on what was usable by T', async () => {
    const { runs } = await train(mkdtempSync(join(tmpdir(), 'driftline-et-future-')), {
      humanStep: 13,
      pseudoStep: 2,
      delayMs: 0,
    });
    const { human, pseudo, future } = stream();
    const early = runs.filter((r) => r.triggerEventTime! < 30 * DAY);
    expect(early.length, 'fine-tunes before the future labels were usable').toBeGreaterThan(0);
    for (const run of runs) {
      const usable = [...human, ...pseudo].filter(
        (e) => e.availableAt <= run.triggerEventTime! && !isHeldOut(e.example.record_id, HOLDOUT),
      );
      expect(run.datasetHash, `training set of the fine-tune at day ${run.triggerEventTime! / DAY}`).toBe(
        trainingSetHash(usable.map((e) => e.example)),
      );
      const usedFuture = usable.filter((e) => future.has(e.example.record_id)).length;
      expect(usedFuture).toBe(run.triggerEventTime! >= 30 * DAY ? future.size : 0);
    }
  }, 120_000);
});
