/** The pure decisions of the Model B loop: batch composition, triggers, promotion, holdout split, example checks. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tableDef } from '../../connectors/warehouse/tables.ts';
import { rowValidator } from '../../connectors/warehouse/validate.ts';
import { rng } from '../seeded-random.ts';
import { exportMlpToOnnx } from '../postings/export.ts';
import { FEATURE_DIM } from '../postings/features.ts';
import { ModelRegistry } from '../registry/registry.ts';
import { composeBatches } from './batch-composition.ts';
import { isHeldOut } from './holdout-split.ts';
import { ModelBTrainer } from './model-b-trainer.ts';
import { mlpWeightsFromOnnx } from './onnx-weights.ts';
import { promotionDecision } from './promotion.ts';
import { type TrainingExample, exampleProblem, trainingSetHash } from './training-example.ts';
import { type TrainingRun, trainingRunRow } from './training-run.ts';
import { DEFAULT_TRIGGER_POLICY, type TriggerState, decideTrigger } from './trigger-policy.ts';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('composeBatches', () => {
  const humanShare = (batch: number[], human: Set<number>) => batch.filter((i) => human.has(i)).length / batch.length;

  it('oversamples scarce human examples so every batch has the minimum share; every pseudo example once', () => {
    const pseudo = range(0, 1000);
    const human = range(1000, 1020); // 2 % of the data
    const plan = composeBatches(pseudo, human, 32, 0.25, rng(1));
    const humans = new Set(human);
    expect(plan.humanPerBatch).toBe(8);
    for (const b of plan.batches) {
      expect(b.length).toBeLessThanOrEqual(32);
      expect(humanShare(b, humans)).toBeGreaterThanOrEqual(0.25);
    }
    const drawn = plan.batches.flat();
    expect(drawn.filter((i) => i < 1000).sort((a, b) => a - b)).toEqual(pseudo);
    expect(new Set(drawn.filter((i) => i >= 1000))).toEqual(humans);
    expect(plan.humanDraws).toBe(plan.batches.length * 8);
    expect(plan.humanDraws).toBeGreaterThan(10 * human.length); // each human example seen ~10× per epoch
  });

  it('keeps the natural share when humans are plentiful (each human example drawn about once)', () => {
    const plan = composeBatches(range(0, 100), range(100, 400), 32, 0.25, rng(2));
    expect(plan.humanPerBatch).toBe(24);
    const humans = plan.batches.flat().filter((i) => i >= 100);
    expect(new Set(humans).size).toBe(300);
    expect(humans.length).toBeLessThan(300 + 24);
  });

  it('leaves a pseudo slot when rounding would give every slot to humans', () => {
    const plan = composeBatches([0], range(1, 200), 32, 0.25, rng(3));
    expect(plan.batches.flat()).toContain(0);
  });

  it('is seeded, refuses a batch without humans when a share is required, and allows it with share 0', () => {
    expect(composeBatches(range(0, 50), range(50, 60), 8, 0.5, rng(9))).toEqual(
      composeBatches(range(0, 50), range(50, 60), 8, 0.5, rng(9)),
    );
    expect(composeBatches(range(0, 50), range(50, 60), 8, 0.5, rng(9))).not.toEqual(
      composeBatches(range(0, 50), range(50, 60), 8, 0.5, rng(10)),
    );
    expect(() => composeBatches(range(0, 10), [], 8, 0.25, rng(1))).toThrow('no human-labelled examples');
    expect(
      composeBatches(range(0, 10), [], 8, 0, rng(1))
        .batches.flat()
        .sort((a, b) => a - b),
    ).toEqual(range(0, 10));
    expect(
      composeBatches(range(0, 10), range(10, 12), 8, 1, rng(1))
        .batches.flat()
        .every((i) => i >= 10),
    ).toBe(true);
  });
});

describe('decideTrigger', () => {
  const base: TriggerState = {
    newLabels: 0,
    driftAlert: false,
    scheduleDue: false,
    manual: false,
    running: false,
    holdoutSize: 100,
    humanExamples: 10,
    needsHuman: true,
  };
  const policy = { ...DEFAULT_TRIGGER_POLICY, everyNewLabels: 100 };

  it('runs after everyNewLabels labels, on drift, on schedule with new labels, on request', () => {
    expect(decideTrigger({ ...base, newLabels: 99 }, policy)).toEqual({ action: 'none' });
    expect(decideTrigger({ ...base, newLabels: 100 }, policy)).toEqual({ action: 'run', trigger: 'labels' });
    expect(decideTrigger({ ...base, driftAlert: true }, policy)).toEqual({ action: 'run', trigger: 'drift' });
    expect(decideTrigger({ ...base, scheduleDue: true }, policy)).toEqual({ action: 'none' }); // nothing new to learn
    expect(decideTrigger({ ...base, scheduleDue: true, newLabels: 1 }, policy)).toEqual({
      action: 'run',
      trigger: 'schedule',
    });
    expect(decideTrigger({ ...base, manual: true, driftAlert: true, newLabels: 500 }, policy)).toEqual({
      action: 'run',
      trigger: 'manual',
    });
  });

  it('waits while a run is going, the holdout is too small, or no human example exists', () => {
    const due = { ...base, newLabels: 100 };
    expect(decideTrigger({ ...due, running: true }, policy)).toMatchObject({
      action: 'wait',
      reason: 'a fine-tune is running',
    });
    expect(decideTrigger({ ...due, holdoutSize: 49 }, policy)).toMatchObject({
      action: 'wait',
      reason: 'holdout has 49 of the 50 human labels it needs',
    });
    expect(decideTrigger({ ...due, humanExamples: 0 }, policy)).toMatchObject({
      action: 'wait',
      trigger: 'labels',
      reason: 'no human-labelled training example yet',
    });
    expect(decideTrigger({ ...due, humanExamples: 0, needsHuman: false }, policy)).toEqual({
      action: 'run',
      trigger: 'labels',
    });
  });
});

describe('promotionDecision', () => {
  it('promotes only a strictly better candidate; a tie keeps the current model', () => {
    expect(promotionDecision(0.91, 0.9, 300)).toMatchObject({ promote: true });
    expect(promotionDecision(0.9, 0.9, 300)).toEqual({
      promote: false,
      reason: 'tie: holdout accuracy 0.9000 = current, current kept',
    });
    expect(promotionDecision(0.5, 0.9, 300)).toMatchObject({
      promote: false,
      reason: 'holdout accuracy 0.5000 < current 0.9000',
    });
    expect(promotionDecision(1, 0, 0)).toMatchObject({ promote: false });
  });
});

describe('holdout split', () => {
  it('is stable per id, close to the fraction, and changes with the seed', () => {
    const ids = range(0, 20_000).map(String);
    const held = ids.filter((id) => isHeldOut(id, { fraction: 0.25, seed: 1 }));
    expect(held.length / ids.length).toBeGreaterThan(0.24);
    expect(held.length / ids.length).toBeLessThan(0.26);
    expect(ids.filter((id) => isHeldOut(id, { fraction: 0.25, seed: 1 }))).toEqual(held);
    const other = new Set(ids.filter((id) => isHeldOut(id, { fraction: 0.25, seed: 2 })));
    expect(held.filter((id) => other.has(id)).length / held.length).toBeLessThan(0.35); // ~independent splits
    expect(ids.some((id) => isHeldOut(id, { fraction: 0, seed: 1 }))).toBe(false);
  });
});

const example = (
  record_id: string,
  label: number,
  source: 'pseudo' | 'human',
  source_model = source === 'pseudo' ? 'postings-a@v1' : 'alice',
): TrainingExample => ({
  record_id,
  text: { title: `title ${record_id}`, description: 'description' },
  label,
  source,
  source_model,
  event_time: 0,
});

describe('training examples', () => {
  it('refuses labels from Model B itself and malformed examples', () => {
    expect(exampleProblem(example('1', 1, 'pseudo'), 'postings-b')).toBeUndefined();
    expect(exampleProblem(example('1', 1, 'pseudo', 'postings-b@v3'), 'postings-b')).toBe(
      'labelled by postings-b@v3: postings-b never labels its own training data',
    );
    expect(exampleProblem(example('1', 1, 'human', 'postings-b'), 'postings-b')).toMatch(/never labels its own/);
    expect(exampleProblem(example('1', 1, 'pseudo', 'postings-bx@v1'), 'postings-b')).toBeUndefined();
    expect(exampleProblem(example('1', 2, 'human'), 'postings-b')).toMatch(/label 2 is not a class index/);
    expect(exampleProblem(example('', 0, 'human'), 'postings-b')).toBe('record_id is empty');
  });

  it('hashes a training set by ids and labels, whatever the order', () => {
    const set = [example('1', 0, 'human'), example('2', 1, 'pseudo')];
    expect(trainingSetHash(set)).toBe(trainingSetHash([...set].reverse()));
    expect(trainingSetHash(set)).not.toBe(trainingSetHash([example('1', 0, 'human'), example('2', 0, 'pseudo')]));
    expect(trainingSetHash(set)).not.toBe(trainingSetHash([example('1', 0, 'human'), example('3', 1, 'pseudo')]));
  });
});

const randomMlp = (hidden: number, seed: number) => {
  const random = rng(seed);
  const values = (n: number) => Float32Array.from({ length: n }, () => random() - 0.5);
  return {
    sizes: [FEATURE_DIM, hidden, 2] as [number, number, number],
    w1: values(FEATURE_DIM * hidden),
    b1: values(hidden),
    w2: values(hidden * 2),
    b2: values(2),
  };
};

describe('mlpWeightsFromOnnx', () => {
  it('reads back exactly the weights that were exported', () => {
    const weights = randomMlp(4, 5);
    expect(mlpWeightsFromOnnx(exportMlpToOnnx(weights))).toEqual(weights);
  });
});

describe('ModelBTrainer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'driftline-continual-'));
  const registry = new ModelRegistry({ manifestPath: join(dir, 'models.json'), home: dir });
  const a = registry.register({
    id: 'postings-a',
    kind: 'postings',
    onnx: exportMlpToOnnx(randomMlp(2, 1)),
    datasetHash: 'glassdoor',
    configHash: 'a-config',
    stage: 'production',
  });
  const holdout = { fraction: 0.25, seed: 2026 };
  const ids = range(0, 400).map((i) => `p${i}`);
  const heldId = ids.find((id) => isHeldOut(id, holdout))!;
  const trainIds = ids.filter((id) => !isHeldOut(id, holdout));
  // minHoldout out of reach: no fine-tune starts here
  const trainer = new ModelBTrainer({
    registry,
    modelA: { id: 'postings-a' },
    holdout,
    triggers: { everyNewLabels: 1, minHoldout: 1000 },
    maxExamples: 3,
  });
  afterAll(() => trainer.close());

  it('starts B as a copy of A, with A as its parent', () => {
    expect(trainer.stats().waiting).toBeNull();
    trainer.add(example(trainIds[0]!, 0, 'pseudo'));
    expect(trainer.stats().waiting).toBe('not started: call start()');
    trainer.start();
    expect(registry.list('postings-b')).toEqual([
      expect.objectContaining({
        version: 'v1',
        parent: 'postings-a@v1',
        sha256: a.sha256,
        dataset_hash: 'glassdoor',
        config_hash: 'a-config',
        stage: 'production',
      }),
    ]);
    trainer.start(); // B exists: nothing registered again
    expect(registry.list('postings-b')).toHaveLength(1);
  });

  it('keeps the holdout out of training, lets human labels win, and counts refusals', () => {
    expect(trainer.add(example(heldId, 1, 'pseudo'))).toBe('dropped-holdout');
    expect(trainer.add(example(heldId, 1, 'human'))).toBe('holdout');
    const [t1, t2, t3, t4] = trainIds;
    expect(trainer.add(example(t1!, 1, 'human'))).toBe('replaced'); // the pseudo-label added before start()
    expect(trainer.add(example(t1!, 0, 'pseudo'))).toBe('dropped-human-known');
    expect(trainer.add(example(t2!, 0, 'pseudo', 'postings-b@v2'))).toBe('rejected');
    expect(
      trainer.addAll([example(t2!, 0, 'pseudo'), example(t3!, 1, 'pseudo'), example(t4!, 0, 'pseudo')]),
    ).toMatchObject({ accepted: 3 });
    const stats = trainer.stats();
    // maxExamples 3: the oldest (t1, human) was dropped when t4 came
    expect([stats.pseudoExamples, stats.humanExamples, stats.holdoutSize]).toEqual([3, 0, 1]);
    expect(stats.rejections).toEqual({ 'labelled by postings-b@v2: postings-b never labels its own training data': 1 });
    expect(stats.newLabels).toBe(5);
    expect(stats.waiting).toBe('labels: holdout has 1 of the 1000 human labels it needs');
    expect(stats.runs).toBe(0);
  });

  it('fires the schedule only when new labels arrived', async () => {
    const scheduled = new ModelBTrainer({
      registry,
      modelA: { id: 'postings-a' },
      holdout,
      triggers: { everyNewLabels: 1000, scheduleMs: 20, minHoldout: 1000 },
    });
    scheduled.start();
    await new Promise((r) => setTimeout(r, 60));
    expect(scheduled.stats().waiting).toBeNull();
    scheduled.add(example(trainIds[0]!, 0, 'pseudo'));
    await new Promise((r) => setTimeout(r, 60));
    expect(scheduled.stats().waiting).toBe('schedule: holdout has 0 of the 1000 human labels it needs');
    await scheduled.close();
  });
});

describe('trainingRunRow', () => {
  it('gives a row that fits the training_runs warehouse table', () => {
    const metrics = { accuracy: 0.9, precision: 0.8, recall: 0.7, f1: 0.75, ece: 0.05, n: 300 };
    const run: TrainingRun = {
      runId: 'r1',
      modelId: 'postings-b',
      version: 'v2',
      parent: 'postings-b@v1',
      trigger: 'labels',
      pseudoExamples: 900,
      humanExamples: 300,
      datasetHash: 'd',
      configHash: 'c',
      losses: [0.3, 0.2],
      featurizeSeconds: 0.1,
      trainSeconds: 2.5,
      holdoutSize: 300,
      candidate: metrics,
      current: { ...metrics, accuracy: 0.85 },
      modelA: { ...metrics, accuracy: 0.7, ref: 'postings-a@v1' },
      promoted: true,
      reason: 'holdout accuracy 0.9000 > current 0.8500',
      startedAt: 1_000,
      finishedAt: 4_000,
      triggerEventTime: 1_767_225_600_000,
      inForceFrom: 1_767_225_600_001,
    };
    const row = trainingRunRow(run);
    expect(row).toMatchObject({
      id: 'r1/postings-b/v2',
      version: 4_000,
      trigger_event_time: 1_767_225_600_000,
      in_force_from: 1_767_225_600_001,
      candidate_version: 'v2',
      candidate_accuracy: 0.9,
      current_accuracy: 0.85,
      model_a_accuracy: 0.7,
      promoted: 1,
    });
    expect(rowValidator(tableDef('training_runs'))(row)).toBeUndefined();
  });
});
