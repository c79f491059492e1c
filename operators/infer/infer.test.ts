import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArraySink } from '../../streams/kernel/memory/array-sink.ts';
import { MemoryTransport } from '../../streams/kernel/memory/memory-log.ts';
import { topicSource } from '../../streams/kernel/transport/topic-source.ts';
import { denseForward, denseModel, randomDense } from '../../models/infer/dense-model.ts';
import { InferencePool } from '../../models/infer/worker-pool.ts';
import { configHash } from '../../models/registry/lineage.ts';
import { ModelRegistry } from '../../models/registry/registry.ts';
import { Pipeline } from '../../streams/kernel/pipeline.ts';
import type { DeadLetter } from '../../streams/kernel/record.ts';
import type { Stage } from '../../streams/kernel/stage.ts';
import { runPipeline } from '../../streams/kernel/runner.ts';
import { type InferStage, type Inferred, infer, registryResolver, watchRegistry } from './infer.ts';
import { loadUserModelConfig, userModel } from './user-model.ts';
import {
  FEATURES,
  expectedLabel,
  expectedProbabilities,
  featuresOf,
  memoryResolver,
  testModel,
} from './test-fixtures.ts';

const stages: InferStage<unknown>[] = [];
afterAll(async () => {
  for (const s of stages) await s.close();
});

type Row = { id: string; features: unknown };

async function runOn<T>(
  values: Array<{ key: string; value: unknown }>,
  build: (p: Pipeline, stream: ReturnType<Pipeline['from']>) => ArraySink<T>,
  partitions = 1,
) {
  const transport = new MemoryTransport();
  const topic = 'in';
  await transport.ensureTopic(topic, partitions);
  const producer = await transport.producer();
  await producer.send(
    topic,
    values.map((v) => ({ key: v.key, value: Buffer.from(JSON.stringify(v.value)), timestamp: 0 })),
  );
  const pipeline = new Pipeline('infer-test');
  const dead = new ArraySink<DeadLetter>('dead');
  pipeline.deadLetters(dead);
  const sink = build(pipeline, pipeline.from(topicSource(transport, { topic, group: 'g', partitions })));
  await runPipeline(pipeline, { untilIdle: true });
  return { sink, dead };
}

/** JSON values through `decode → stage → sink`, the pipeline every test here runs. */
function predictAll<T>(values: Array<{ key: string; value: unknown }>, stage: Stage<T, Inferred<T>>, partitions = 1) {
  return runOn<Inferred<T>>(
    values,
    (_, s) => {
      const out = new ArraySink<Inferred<T>>('out');
      s.map('decode', (buf) => JSON.parse((buf as Buffer).toString()) as T)
        .through(stage)
        .to(out);
      return out;
    },
    partitions,
  );
}

const a = testModel('postings-a', 'v1', 11);
const b = testModel('postings-b', 'v1', 22);

describe('infer', () => {
  it('dead-letters invalid inputs with their reason and predicts the rest', async () => {
    const values: Array<{ key: string; value: Row }> = [];
    for (let i = 0; i < 600; i++) values.push({ key: `r${i}`, value: { id: `r${i}`, features: featuresOf(i) } });
    const bad: Record<string, { features: unknown; reason: string }> = {
      'bad-short': { features: [1, 2, 3], reason: 'input has 3 values, featureShape [8] needs 8' },
      'bad-nan': { features: [0, 1, 2, 3, 4, 5, 6, 'NaN'], reason: 'input has NaN at index 7' },
      // overflows float32
      'bad-inf': { features: [0, 1, 1e39, 3, 4, 5, 6, 7], reason: 'input has Infinity at index 2' },
      'bad-missing': { features: null, reason: 'toInput failed: features is not an array' },
    };
    values.splice(
      100,
      0,
      ...Object.entries(bad).map(([key, v]) => ({ key, value: { id: key, features: v.features } })),
    );

    const stage = infer<Row>('predict', {
      models: [{ id: 'postings-a' }],
      featureShape: [FEATURES],
      maxBatch: 64,
      toInput: (v) => {
        if (!Array.isArray(v.features)) throw new Error('features is not an array');
        return Float32Array.from(v.features, (x) => (x === 'NaN' ? Number.NaN : Number(x)));
      },
      resolveModel: memoryResolver([a]),
    });
    stages.push(stage as InferStage<unknown>);
    const { sink, dead } = await predictAll<Row>(values, stage);

    expect(Object.fromEntries(dead.values.map((d) => [d.key, d.error]))).toEqual(
      Object.fromEntries(Object.entries(bad).map(([k, v]) => [k, v.reason])),
    );
    expect(dead.values.every((d) => d.stage === 'predict')).toBe(true);
    expect(sink.records.length).toBe(600);
    for (const r of sink.values) {
      const i = Number(r.input.id.slice(1));
      const [p] = r.predictions;
      expect(p!.record_id).toBe(r.input.id);
      expect([p!.model_id, p!.model_version]).toEqual(['postings-a', 'v1']);
      expect(p!.label).toBe(expectedLabel(a, featuresOf(i)));
      expect(p!.confidence).toBe(Math.max(...p!.probabilities));
      const want = expectedProbabilities(a, featuresOf(i));
      p!.probabilities.forEach((v, k) => {
        expect(v).toBeCloseTo(want[k]!, 5);
      });
      expect(p!.latency_ms).toBeGreaterThan(0);
    }
  });

  it('runs two models side by side: one prediction per model per record', async () => {
    const values = Array.from({ length: 1000 }, (_, i) => ({
      key: `r${i}`,
      value: { id: `r${i}`, features: featuresOf(i) },
    }));
    const stage = infer<Row>('ab', {
      models: [{ id: 'postings-a' }, { id: 'postings-b', version: 'v1' }],
      featureShape: [FEATURES],
      maxBatch: 100,
      threads: 2,
      toInput: (v) => v.features as number[],
      resolveModel: memoryResolver([a, b]),
    });
    stages.push(stage as InferStage<unknown>);
    const { sink, dead } = await predictAll<Row>(values, stage, 3);
    expect(dead.records.length).toBe(0);
    expect(sink.records.length).toBe(1000);
    let disagree = 0;
    for (const r of sink.values) {
      const x = r.input.features as number[];
      expect(r.predictions.map((p) => p.model_id)).toEqual(['postings-a', 'postings-b']);
      expect(r.predictions.map((p) => p.label)).toEqual([expectedLabel(a, x), expectedLabel(b, x)]);
      expect(new Set(r.predictions.map((p) => p.record_id))).toEqual(new Set([r.input.id]));
      if (r.predictions[0]!.label !== r.predictions[1]!.label) disagree++;
    }
    expect(disagree).toBeGreaterThan(50); // different weights, visibly different answers
  });

  it('takes sparse rows: the same predictions as dense rows; bad ones dead-lettered for the same reasons', async () => {
    // Every third feature zero, so the sparse rows leave values out (and reused batch buffers must be cleared).
    const dense = (i: number) => featuresOf(i).map((x, k) => ((i + k) % 3 === 0 ? 0 : x));
    const sparse = (x: number[]) => ({
      length: x.length,
      indices: x.flatMap((v, k) => (v === 0 ? [] : [k])),
      values: x.filter((v) => v !== 0),
    });
    type SparseValue = { id: string; row: { length: number; indices: number[]; values: (number | string)[] } };
    const values: Array<{ key: string; value: SparseValue }> = Array.from({ length: 400 }, (_, i) => ({
      key: `r${i}`,
      value: { id: `r${i}`, row: sparse(dense(i)) },
    }));
    const bad: Record<string, { row: SparseValue['row']; reason: string }> = {
      'bad-nan': { row: { length: 8, indices: [1, 7], values: [1, 'NaN'] }, reason: 'input has NaN at index 7' },
      // overflows float32
      'bad-inf': { row: { length: 8, indices: [2], values: [1e39] }, reason: 'input has Infinity at index 2' },
      'bad-index': {
        row: { length: 8, indices: [0, 8], values: [1, 2] },
        reason: 'sparse input index 8 is outside [0, 8)',
      },
      'bad-pairs': {
        row: { length: 8, indices: [0, 1], values: [1] },
        reason: 'sparse input has 2 indices but 1 values',
      },
      'bad-length': {
        row: { length: 9, indices: [0], values: [1] },
        reason: 'input has 9 values, featureShape [8] needs 8',
      },
    };
    values.splice(150, 0, ...Object.entries(bad).map(([key, v]) => ({ key, value: { id: key, row: v.row } })));
    // One pool: the sparse stage reuses the batch buffers the dense run filled, so a value left over would show.
    const pool = new InferencePool();
    const stage = infer<SparseValue>('sparse', {
      models: [{ id: 'postings-a' }, { id: 'postings-b' }],
      featureShape: [FEATURES],
      maxBatch: 32,
      pool,
      toInput: (v) => ({ ...v.row, values: v.row.values.map((x) => (x === 'NaN' ? Number.NaN : Number(x))) }),
      resolveModel: memoryResolver([a, b]),
    });
    const denseStage = infer<Row>('dense', {
      models: [{ id: 'postings-a' }, { id: 'postings-b' }],
      featureShape: [FEATURES],
      maxBatch: 32,
      pool,
      toInput: (v) => v.features as number[],
      resolveModel: memoryResolver([a, b]),
    });

    const want = await predictAll<Row>(
      Array.from({ length: 400 }, (_, i) => ({ key: `r${i}`, value: { id: `r${i}`, features: dense(i) } })),
      denseStage,
    );
    const { sink, dead } = await predictAll<SparseValue>(values, stage);
    // Again in reverse order: now the buffers are the ones the sparse run cleared (zeroed), with other rows in them.
    const again = await predictAll<SparseValue>([...values].reverse(), stage);
    await stage.close();
    await denseStage.close();
    await pool.close();
    expect(Object.fromEntries(dead.values.map((d) => [d.key, d.error]))).toEqual(
      Object.fromEntries(Object.entries(bad).map(([k, v]) => [k, v.reason])),
    );
    expect(sink.records.length).toBe(400);
    const strip = (r: Inferred<unknown>) =>
      r.predictions.map(({ label, probabilities, model_id }) => ({ label, probabilities, model_id }));
    expect(sink.values.map(strip)).toEqual(want.sink.values.map(strip));
    expect(again.sink.values.map(strip).reverse()).toEqual(want.sink.values.map(strip));
  });

  it("runs a user's own classifier with other input/output names and preprocessing, from its JSON config", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftline-user-model-'));
    const sizes = [4, 2];
    const layers = randomDense(sizes, 5);
    writeFileSync(join(dir, 'scores.onnx'), denseModel({ sizes, layers, inputName: 'features', outputName: 'scores' }));
    const mean = [1, 2, 3, 4];
    const std = [2, 2, 4, 4];
    writeFileSync(
      join(dir, 'model.json'),
      JSON.stringify({
        id: 'churn',
        file: 'scores.onnx',
        input: { name: 'features', shape: [4], preprocessing: 'standardize', mean, std, field: 'payload.x' },
        output: { name: 'scores', classes: ['stays', 'churns'] },
      }),
    );
    const { config, baseDir } = loadUserModelConfig(join(dir, 'model.json'));
    const user = userModel(config, baseDir);
    const stage = infer<unknown>('user', {
      models: [user.ref],
      featureShape: user.featureShape,
      toInput: user.toInput,
      resolveModel: user.resolveModel,
    });
    stages.push(stage);
    const xs = Array.from({ length: 50 }, (_, i) => [i, i % 7, -i / 3, 2]);
    const values: Array<{ key: string; value: unknown }> = xs.map((x, i) => ({
      key: `u${i}`,
      value: { payload: { x } },
    }));
    values.push({ key: 'u-bad', value: { payload: { x: [1, 2, 'three', 4] } } });
    const { sink, dead } = await predictAll<unknown>(values, stage);
    expect(dead.values.map((d) => [d.key, d.error])).toEqual([['u-bad', 'input has NaN at index 2']]);
    expect(sink.records.length).toBe(50);
    sink.values.forEach((r, i) => {
      const want = denseForward(
        sizes,
        layers,
        xs[i]!.map((v, k) => (v - mean[k]!) / std[k]!),
      );
      const p = r.predictions[0]!;
      expect([p.model_id, p.model_version]).toEqual(['churn', 'v1']);
      p.probabilities.forEach((v, k) => {
        expect(v).toBeCloseTo(want[k]!, 5);
      });
    });

    // A config naming an output the model does not have is refused when the model loads.
    const wrong = userModel({ ...config, output: { ...config.output, name: 'probabilities' } }, baseDir);
    const failing = infer<unknown>('wrong', {
      models: [wrong.ref],
      featureShape: [4],
      toInput: wrong.toInput,
      resolveModel: wrong.resolveModel,
    });
    stages.push(failing);
    await expect(failing.ready()).rejects.toThrow('has no output named "probabilities" (outputs: scores)');
    expect(() =>
      userModel({ ...config, input: { ...config.input, preprocessing: 'standardize', std: [1, 0, 1, 1] } }),
    ).toThrow('"input.std" must not contain 0');
  });

  it('resolves models from the registry (production version) and swaps between batches', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftline-infer-registry-'));
    const registry = new ModelRegistry({ manifestPath: join(dir, 'models.json'), home: dir });
    const v2 = testModel('postings-a', 'v2', 99);
    registry.register({
      id: 'postings-a',
      kind: 'user',
      onnx: a.bytes,
      datasetHash: 'd',
      configHash: configHash({}),
      stage: 'production',
    });
    registry.register({ id: 'postings-a', kind: 'user', onnx: v2.bytes, datasetHash: 'd', configHash: configHash({}) });
    const stage = infer<number[]>('reg', {
      models: [{ id: 'postings-a' }],
      featureShape: [FEATURES],
      toInput: (x) => x,
      resolveModel: registryResolver(registry),
    });
    stages.push(stage as InferStage<unknown>);
    await stage.ready();
    expect(stage.versions()).toEqual({ 'postings-a': 'v1' });
    const emitted: Inferred<number[]>[][] = [];
    const out = {
      emit: (batch: { records: { value: Inferred<number[]> }[] }) => emitted.push(batch.records.map((r) => r.value)),
      emitSide() {},
      deadLetter() {},
    };
    const batch = (from: number) => ({
      records: Array.from({ length: 10 }, (_, i) => ({
        key: `k${from + i}`,
        value: featuresOf(from + i),
        eventTime: 0,
        headers: {},
        position: { topic: 't', partition: 0, offset: from + i },
      })),
      tokens: [],
    });
    await stage.onBatch(batch(0), out);
    await stage.swap('postings-a', 'v2');
    await stage.onBatch(batch(10), out);
    expect(emitted.flat().map((r) => r.predictions[0]!.model_version)).toEqual([
      ...Array(10).fill('v1'),
      ...Array(10).fill('v2'),
    ]);
    expect(emitted[1]!.map((r) => r.predictions[0]!.label)).toEqual(emitted[1]!.map((r) => expectedLabel(v2, r.input)));
    await expect(stage.swap('postings-z', 'v1')).rejects.toThrow('not one of postings-a');

    // A batch where every row is invalid: nothing reaches the model, everything is dead-lettered.
    const dead: string[] = [];
    const bad = batch(20);
    bad.records.forEach((r, i) => {
      r.value[i % FEATURES] = i % 2 ? Number.NaN : -Infinity;
    });
    await stage.onBatch(bad, { ...out, deadLetter: (_r: unknown, e: unknown) => dead.push((e as Error).message) });
    expect(dead).toEqual(
      bad.records.map((_, i) => `input has ${i % 2 ? 'NaN' : '-Infinity'} at index ${i % FEATURES}`),
    );
    expect(emitted[2]).toEqual([]);
  });

  it('follows the registry: promoting a version swaps unpinned models to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftline-infer-watch-'));
    const registry = new ModelRegistry({ manifestPath: join(dir, 'models.json'), home: dir });
    registry.register({
      id: 'postings-a',
      kind: 'user',
      onnx: a.bytes,
      datasetHash: 'd',
      configHash: 'c',
      stage: 'production',
    });
    registry.register({
      id: 'postings-a',
      kind: 'user',
      onnx: testModel('postings-a', 'v2', 5).bytes,
      datasetHash: 'd',
      configHash: 'c',
    });
    const models = [{ id: 'postings-a' }];
    const stage = infer<number[]>('watch', {
      models,
      featureShape: [FEATURES],
      toInput: (x) => x,
      resolveModel: registryResolver(registry),
    });
    stages.push(stage as InferStage<unknown>);
    await stage.ready();
    const errors: unknown[] = [];
    const stop = watchRegistry(registry, stage, models, 10, (e) => errors.push(e));
    await new Promise((r) => setTimeout(r, 50));
    expect(stage.versions()).toEqual({ 'postings-a': 'v1' });
    registry.promote('postings-a', 'v2');
    for (let i = 0; i < 100 && stage.versions()['postings-a'] !== 'v2'; i++)
      await new Promise((r) => setTimeout(r, 10));
    stop();
    expect(stage.versions()).toEqual({ 'postings-a': 'v2' });
    expect(errors).toEqual([]);
  });
});
