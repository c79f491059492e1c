/**
 * Small dense softmax classifiers built with the ONNX builder, with weights known to the caller: for tests and
 * benchmarks of the inference path, and as a reference (`denseForward`) to check the runtime's answers against.
 */
import { INPUT_NAME, OUTPUT_NAME } from '../model-contract.ts';
import { DataType, type Node, type Tensor, buildModel, initializer, node, valueInfo } from '../onnx/builder.ts';

export interface DenseLayer {
  /** Row-major [in, out]. */
  weights: Float32Array;
  bias: Float32Array;
}

export interface DenseSpec {
  /** Sizes: [features, hidden…, classes]. */
  sizes: number[];
  layers: DenseLayer[];
  inputName?: string;
  outputName?: string;
  classes?: string[];
  preprocessing?: string;
}

/** Deterministic pseudo-random weights (mulberry32), scaled by 1/sqrt(fan-in). */
export function randomDense(sizes: number[], seed: number): DenseLayer[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return sizes.slice(0, -1).map((inSize, i) => {
    const outSize = sizes[i + 1]!;
    const scale = 2 / Math.sqrt(inSize);
    return {
      weights: Float32Array.from({ length: inSize * outSize }, () => (rand() - 0.5) * scale),
      bias: Float32Array.from({ length: outSize }, () => (rand() - 0.5) * 0.1),
    };
  });
}

/** x·W1+b1 → ReLU → … → x·Wn+bn → softmax, as ONNX (input/output names default to the driftline contract). */
export function denseModel(spec: DenseSpec): Uint8Array {
  const inputName = spec.inputName ?? INPUT_NAME;
  const outputName = spec.outputName ?? OUTPUT_NAME;
  const nodes: Node[] = [];
  const initializers: Tensor[] = [];
  let current = inputName;
  spec.layers.forEach((layer, i) => {
    const [inSize, outSize] = [spec.sizes[i]!, spec.sizes[i + 1]!];
    initializers.push(
      initializer(`W${i}`, [inSize, outSize], layer.weights),
      initializer(`b${i}`, [outSize], layer.bias),
    );
    nodes.push(node('MatMul', [current, `W${i}`], [`xw${i}`]), node('Add', [`xw${i}`, `b${i}`], [`z${i}`]));
    current = `z${i}`;
    if (i < spec.layers.length - 1) {
      nodes.push(node('Relu', [current], [`h${i}`]));
      current = `h${i}`;
    }
  });
  nodes.push(node('Softmax', [current], [outputName], { axis: -1 }));
  const classes = spec.classes ?? Array.from({ length: spec.sizes.at(-1)! }, (_, i) => `class-${i}`);
  return buildModel({
    name: 'dense',
    inputs: [valueInfo(inputName, DataType.FLOAT, ['batch', spec.sizes[0]!])],
    outputs: [valueInfo(outputName, DataType.FLOAT, ['batch', spec.sizes.at(-1)!])],
    nodes,
    initializers,
    metadata: { 'driftline.preprocessing': spec.preprocessing ?? 'none', 'driftline.classes': JSON.stringify(classes) },
  });
}

/** The same network in plain JS (float64), for checking predictions. */
export function denseForward(sizes: number[], layers: DenseLayer[], x: ArrayLike<number>): number[] {
  let a = Array.from(x);
  layers.forEach((layer, i) => {
    const [inSize, outSize] = [sizes[i]!, sizes[i + 1]!];
    const z = Array.from(layer.bias);
    for (let o = 0; o < outSize; o++) for (let k = 0; k < inSize; k++) z[o]! += a[k]! * layer.weights[k * outSize + o]!;
    a = i < layers.length - 1 ? z.map((v) => Math.max(0, v)) : z;
  });
  const max = Math.max(...a);
  const e = a.map((v) => Math.exp(v - max));
  const sum = e.reduce((p, q) => p + q, 0);
  return e.map((v) => v / sum);
}
