import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ArraySink } from '../../streams/kernel/memory/array-sink.ts';
import { MemoryTransport } from '../../streams/kernel/memory/memory-log.ts';
import { topicSource } from '../../streams/kernel/transport/topic-source.ts';
import { exportFramesOnnx, type CnnWeights } from '../../models/frames/export.ts';
import { quantizeFramesInt8 } from '../../models/frames/quantize.ts';
import { denseModel, randomDense } from '../../models/infer/dense-model.ts';
import { loadOnnxTfjs } from '../../models/infer/onnx-tfjs.js';
import { INPUT_NAME, OUTPUT_NAME } from '../../models/model-contract.ts';
import { DataType, buildModel, initializer, node, valueInfo } from '../../models/onnx/builder.ts';
import {
  FOLD_DEQUANTIZE_SESSION_OPTIONS,
  convertToFloat16,
  quantizeWeightsInt8,
} from '../../models/postings/quantize.ts';
import { Pipeline } from '../../streams/kernel/pipeline.ts';
import type { DeadLetter } from '../../streams/kernel/record.ts';
import { runPipeline } from '../../streams/kernel/runner.ts';
import { type InferStage, type Inferred, infer } from './infer.ts';
import { FEATURES, expectedLabel, featuresOf, memoryResolver, testModel } from './test-fixtures.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const randomArray = (n: number, seed: number, scale = 1, offset = -0.5) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() + offset) * scale);
};

async function ortRun(
  bytes: Uint8Array,
  data: Float32Array,
  dims: number[],
  options: ort.InferenceSession.SessionOptions = {},
) {
  const session = await ort.InferenceSession.create(bytes, options);
  try {
    const out = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', data, dims) });
    const t = out[OUTPUT_NAME]!;
    return { data: t.data as Float32Array, dims: [...t.dims].map(Number) };
  } finally {
    await session.release();
  }
}

async function tfjsRun(bytes: Uint8Array, data: Float32Array, dims: number[]) {
  const model = await loadOnnxTfjs(bytes);
  try {
    return model.run({ [INPUT_NAME]: { data, dims } }, [OUTPUT_NAME])[OUTPUT_NAME]!;
  } finally {
    model.dispose();
  }
}

function maxDiff(a: Float32Array, b: Float32Array) {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function expectParity(
  bytes: Uint8Array,
  dims: number[],
  seed: number,
  tolerance: number,
  ortOptions: ort.InferenceSession.SessionOptions = {},
  scale = 4,
  offset = -0.5,
) {
  const data = randomArray(
    dims.reduce((a, b) => a * b, 1),
    seed,
    scale,
    offset,
  );
  const expected = await ortRun(bytes, data.slice(), dims, ortOptions);
  const actual = await tfjsRun(bytes, data.slice(), dims);
  expect(actual.dims).toEqual(expected.dims);
  expect(maxDiff(actual.data, expected.data)).toBeLessThan(tolerance);
  return { expected, actual };
}

/**
 * A small CNN exercising Conv (pads, strides, bias), MaxPool (pads), Transpose, Reshape (0 and -1), Gemm (transB,
 * alpha, beta), Softmax.
 */
function convModel(): Uint8Array {
  const c0 = 2,
    c1 = 4,
    c2 = 3,
    s = 9,
    k = 5;
  // conv1: 9x9 pad 1 stride 1 -> 9x9; pool k2 s2 pads [0,0,1,1] -> 5x5; conv2: k3 stride 2, no pad -> 2x2
  const flat = c2 * 2 * 2;
  return buildModel({
    name: 'tiny-cnn',
    inputs: [valueInfo(INPUT_NAME, DataType.FLOAT, ['batch', c0, s, s])],
    outputs: [valueInfo(OUTPUT_NAME, DataType.FLOAT, ['batch', k])],
    initializers: [
      initializer('w1', [c1, c0, 3, 3], randomArray(c1 * c0 * 9, 1)),
      initializer('b1', [c1], randomArray(c1, 2, 0.2)),
      initializer('w2', [c2, c1, 3, 3], randomArray(c2 * c1 * 9, 3)),
      initializer('b2', [c2], randomArray(c2, 4, 0.2)),
      initializer('shape', [2], BigInt64Array.from([0n, -1n])),
      initializer('w3', [k, flat], randomArray(k * flat, 5)), // transB: [N, K]
      initializer('b3', [k], randomArray(k, 6)),
    ],
    nodes: [
      node('Conv', [INPUT_NAME, 'w1', 'b1'], ['conv1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] }),
      node('Relu', ['conv1'], ['relu1']),
      node('MaxPool', ['relu1'], ['pool1'], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1] }),
      node('Conv', ['pool1', 'w2', 'b2'], ['conv2'], { kernel_shape: [3, 3], strides: [2, 2] }),
      node('Relu', ['conv2'], ['relu2']),
      node('Transpose', ['relu2'], ['nhwc'], { perm: [0, 2, 3, 1] }),
      node('Reshape', ['nhwc', 'shape'], ['flat']),
      node('Gemm', ['flat', 'w3', 'b3'], ['logits'], { transB: 1, alpha: 0.5, beta: 2 }, ['alpha', 'beta']),
      node('Softmax', ['logits'], [OUTPUT_NAME], { axis: 1 }),
    ],
  });
}

function framesWeights(size: number): CnnWeights {
  const f1 = 4,
    f2 = 6,
    k = 3;
  const flat = f2 * Math.floor((Math.floor((size - 2) / 2) - 2) / 2) ** 2;
  return {
    size,
    filters: [f1, f2],
    classes: ['a', 'b', 'c'],
    w1: randomArray(9 * f1, 11),
    b1: randomArray(f1, 12, 0.1),
    w2: randomArray(9 * f1 * f2, 13, 0.5),
    b2: randomArray(f2, 14, 0.1),
    w3: randomArray(flat * k, 15, 0.5),
    b3: randomArray(k, 16, 0.1),
  };
}

describe('onnx-tfjs', () => {
  it('runs a dense model like onnxruntime (within 1e-4)', async () => {
    const sizes = [FEATURES, 32, 16, 4];
    const bytes = denseModel({ sizes, layers: randomDense(sizes, 7) });
    await expectParity(bytes, [64, FEATURES], 100, 1e-4);
    await expectParity(bytes, [1, FEATURES], 101, 1e-4);
  });

  it('runs Conv/MaxPool/Transpose/Reshape/Gemm graphs like onnxruntime (within 1e-4)', async () => {
    const { actual } = await expectParity(convModel(), [16, 2, 9, 9], 200, 1e-4);
    expect(actual.dims).toEqual([16, 5]);
    // the frames CNN exporter's graph (Conv, MaxPool, Transpose, Flatten, Gemm)
    const w = framesWeights(16);
    await expectParity(exportFramesOnnx(w), [8, 1, 16, 16], 201, 1e-4, {}, 1, 0);
  });

  it('runs int8 (DequantizeLinear) and fp16 (Cast, FLOAT16 initializers) variants', async () => {
    const sizes = [FEATURES, 32, 3];
    const fp32 = denseModel({ sizes, layers: randomDense(sizes, 9) });
    // int8 weights: compared with ORT folding DequantizeLinear at load (same float math)
    await expectParity(
      quantizeWeightsInt8(fp32),
      [32, FEATURES],
      300,
      1e-4,
      FOLD_DEQUANTIZE_SESSION_OPTIONS as unknown as ort.InferenceSession.SessionOptions,
    );
    // fp16: tfjs computes in float32 with the fp16-rounded weights, ORT rounds activations to fp16 too
    await expectParity(convertToFloat16(fp32), [32, FEATURES], 301, 5e-3);
  });

  it('simulates QuantizeLinear/DequantizeLinear pairs on activations (statically quantized frames CNN)', async () => {
    const w = framesWeights(16);
    const calibration = {
      inputs: randomArray(32 * 256, 400, 1, 0),
      shape: [32, 1, 16, 16],
      labels: new Int32Array(32),
    };
    const int8 = quantizeFramesInt8(exportFramesOnnx(w), calibration);
    // Measured: equal within 1e-7 on one CPU, 6.4e-3 on an AMD EPYC. ORT fuses QDQ into integer kernels
    // (QLinearConv) whose rounding of a tie depends on the CPU's instruction set and can move a quantized activation
    // by a step, so the bound is looser than the fp32 one.
    const { expected, actual } = await expectParity(int8, [16, 1, 16, 16], 401, 2e-2, {}, 1, 0);
    expect(actual.dims).toEqual(expected.dims);
  });

  it('rejects an unsupported op with an error naming it', async () => {
    const bytes = buildModel({
      name: 'leaky',
      inputs: [valueInfo(INPUT_NAME, DataType.FLOAT, ['batch', 4])],
      outputs: [valueInfo(OUTPUT_NAME, DataType.FLOAT, ['batch', 4])],
      initializers: [],
      nodes: [
        node('LeakyRelu', [INPUT_NAME], ['h'], { alpha: 0.1 }, ['alpha']),
        node('Softmax', ['h'], [OUTPUT_NAME], { axis: -1 }),
      ],
    });
    await expect(loadOnnxTfjs(bytes)).rejects.toThrow(/op LeakyRelu .*not supported by the tfjs backend/);
  });
});

describe('infer with backend tfjs', () => {
  const stages: InferStage<unknown>[] = [];
  afterAll(async () => {
    for (const s of stages) await s.close();
  });

  type Row = { id: string; features: number[] };

  const v1 = testModel('postings-a', 'v1', 11);
  const v2 = testModel('postings-a', 'v2', 33);

  function tfjsStage(backend: 'onnxruntime' | 'tfjs', version?: string) {
    const stage = infer<Row>(`predict-${backend}`, {
      models: [{ id: 'postings-a', version }],
      featureShape: [FEATURES],
      maxBatch: 64,
      backend,
      toInput: (v) => Float32Array.from(v.features),
      resolveModel: memoryResolver([v1, v2]),
    });
    stages.push(stage as InferStage<unknown>);
    return stage;
  }

  async function predictAll(
    backend: 'onnxruntime' | 'tfjs',
    values: Array<{ key: string; value: Row }>,
    stage = tfjsStage(backend, 'v1'),
  ) {
    const transport = new MemoryTransport();
    await transport.ensureTopic('in', 2);
    const producer = await transport.producer();
    await producer.send(
      'in',
      values.map((v) => ({ key: v.key, value: Buffer.from(JSON.stringify(v.value)), timestamp: 0 })),
    );
    const pipeline = new Pipeline(`infer-${backend}`);
    const dead = new ArraySink<DeadLetter>('dead');
    pipeline.deadLetters(dead);
    const out = new ArraySink<Inferred<Row>>('out');
    pipeline
      .from(topicSource(transport, { topic: 'in', group: 'g', partitions: 2 }))
      .map('decode', (buf) => JSON.parse((buf as Buffer).toString()) as Row)
      .through(stage)
      .to(out);
    await runPipeline(pipeline, { untilIdle: true });
    return { out, dead };
  }

  it('predicts every record with the same labels as onnxruntime', async () => {
    const values = Array.from({ length: 300 }, (_, i) => ({
      key: `r${i}`,
      value: { id: `r${i}`, features: featuresOf(i) },
    }));
    const tfjs = await predictAll('tfjs', values);
    const ortResult = await predictAll('onnxruntime', values);
    expect(tfjs.dead.values).toEqual([]);
    expect(tfjs.out.records.length).toBe(300);
    const byId = (s: ArraySink<Inferred<Row>>) => new Map(s.values.map((r) => [r.input.id, r.predictions[0]!]));
    const a = byId(tfjs.out);
    const b = byId(ortResult.out);
    expect(a.size).toBe(300);
    for (const [id, p] of a) {
      const q = b.get(id)!;
      expect(p.label).toBe(q.label);
      for (let k = 0; k < p.probabilities.length; k++)
        expect(Math.abs(p.probabilities[k]! - q.probabilities[k]!)).toBeLessThan(1e-4);
    }
  });

  it('hot-swaps and dead-letters non-finite rows the same way', async () => {
    const stage = tfjsStage('tfjs');
    await stage.ready();
    await stage.swap('postings-a', 'v1');
    expect(stage.versions()).toEqual({ 'postings-a': 'v1' });
    const values = Array.from({ length: 40 }, (_, i) => ({
      key: `r${i}`,
      value: { id: `r${i}`, features: featuresOf(i) },
    }));
    values.push({ key: 'bad-inf', value: { id: 'bad-inf', features: [0, 1, 1e39, 3, 4, 5, 6, 7] } });
    const first = await predictAll('tfjs', values, stage);
    expect(first.dead.values.map((d) => [d.key, d.error])).toEqual([['bad-inf', 'input has Infinity at index 2']]);
    expect(
      first.out.values.every(
        (r) =>
          r.predictions[0]!.model_version === 'v1' && r.predictions[0]!.label === expectedLabel(v1, r.input.features),
      ),
    ).toBe(true);
    await stage.swap('postings-a', 'v2');
    const second = await predictAll('tfjs', values.slice(0, 40), stage);
    expect(second.out.records.length).toBe(40);
    expect(
      second.out.values.every(
        (r) =>
          r.predictions[0]!.model_version === 'v2' && r.predictions[0]!.label === expectedLabel(v2, r.input.features),
      ),
    ).toBe(true);
  });

  it('fails to load a model with an unsupported op, naming the op', async () => {
    const bytes = buildModel({
      name: 'erf',
      inputs: [valueInfo(INPUT_NAME, DataType.FLOAT, ['batch', FEATURES])],
      outputs: [valueInfo(OUTPUT_NAME, DataType.FLOAT, ['batch', FEATURES])],
      initializers: [],
      nodes: [node('Erf', [INPUT_NAME], ['h']), node('Softmax', ['h'], [OUTPUT_NAME], { axis: -1 })],
    });
    const stage = infer<Row>('predict-erf', {
      models: [{ id: 'erf' }],
      featureShape: [FEATURES],
      backend: 'tfjs',
      toInput: (v) => Float32Array.from(v.features),
      resolveModel: async () => ({ id: 'erf', version: 'v1', bytes }),
    });
    stages.push(stage as InferStage<unknown>);
    await expect(stage.ready()).rejects.toThrow(/op Erf .*not supported by the tfjs backend/);
  });
});
