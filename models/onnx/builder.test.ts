import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DataType, buildModel, initializer, node, valueInfo } from './builder.ts';

describe('ONNX builder', () => {
  it('builds a dense softmax classifier that onnxruntime runs with the expected result', async () => {
    // x·W + b then softmax, with W and b chosen so the answer is easy to check by hand.
    const W = new Float32Array([1, 0, 0, 1, 1, -1]); // 3×2
    const b = new Float32Array([0, 0.5]);
    const bytes = buildModel({
      name: 'dense',
      inputs: [valueInfo('x', DataType.FLOAT, ['batch', 3])],
      outputs: [valueInfo('probabilities', DataType.FLOAT, ['batch', 2])],
      nodes: [
        node('MatMul', ['x', 'W'], ['xw']),
        node('Add', ['xw', 'b'], ['logits']),
        node('Softmax', ['logits'], ['probabilities'], { axis: -1 }),
      ],
      initializers: [initializer('W', [3, 2], W), initializer('b', [2], b)],
      metadata: { purpose: 'test' },
    });
    const session = await ort.InferenceSession.create(bytes);
    const x = new Float32Array([1, 2, 3, 0, 0, 0]);
    const out = await session.run({ x: new ort.Tensor('float32', x, [2, 3]) });
    const p = out.probabilities!.data as Float32Array;
    // Row 1: logits [1+3, 2-3+0.5] = [4, -0.5]; row 2: [0, 0.5].
    const softmax = (a: number, c: number) => [
      Math.exp(a) / (Math.exp(a) + Math.exp(c)),
      Math.exp(c) / (Math.exp(a) + Math.exp(c)),
    ];
    expect([...p].map((v) => Number(v.toFixed(6)))).toEqual(
      [...softmax(4, -0.5), ...softmax(0, 0.5)].map((v) => Number(v.toFixed(6))),
    );
    await session.release();
  });

  it('refuses an initializer whose data does not fit its shape', () => {
    expect(() => initializer('W', [3, 2], new Float32Array(5))).toThrow('5 values for dims [3, 2] (6 expected)');
  });
});
