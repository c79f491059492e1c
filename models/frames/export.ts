/**
 * tfjs frame CNN -> ONNX (fp32). tfjs is NHWC with HWIO kernels; ONNX Conv is NCHW with OIHW kernels, so the
 * kernels are transposed, and since tfjs flattens the last pool's output in NHWC order (h, w, c) the ONNX graph
 * Transposes the activations back to NHWC before Flatten, so the dense weights are used as they are.
 *
 *   input [batch,1,S,S] -> Conv(w1,b1) -> Relu -> MaxPool 2 -> Conv(w2,b2) -> Relu -> MaxPool 2
 *     -> Transpose(0,2,3,1) -> Flatten -> Gemm(w3,b3) -> Softmax -> probabilities [batch,K]
 */
import type * as tf from '@tensorflow/tfjs';
import { DataType, buildModel, initializer, node, valueInfo, type Node, type Tensor } from '../onnx/builder.ts';
import onnxProto from 'onnx-proto';
import { INPUT_NAME, OUTPUT_NAME } from '../model-contract.ts';
import { FRAMES_PREPROCESSING } from './dataset.ts';

const { onnx } = onnxProto;

/** Trained weights in tfjs layout: conv kernels HWIO [3,3,I,O], dense [flat, K]. */
export interface CnnWeights {
  size: number;
  filters: [number, number];
  classes: string[];
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
  w3: Float32Array;
  b3: Float32Array;
}

export function weightsFromModel(model: tf.LayersModel, size: number, classes: string[]): CnnWeights {
  const ws = model.getWeights();
  const data = ws.map((t) => Float32Array.from(t.dataSync()));
  const f1 = ws[0]!.shape[3]!;
  const f2 = ws[2]!.shape[3]!;
  return {
    size,
    filters: [f1, f2],
    classes,
    w1: data[0]!,
    b1: data[1]!,
    w2: data[2]!,
    b2: data[3]!,
    w3: data[4]!,
    b3: data[5]!,
  };
}

/** HWIO [kh,kw,I,O] -> OIHW [O,I,kh,kw]. */
export function hwioToOihw(w: Float32Array, kh: number, kw: number, inC: number, outC: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let h = 0; h < kh; h++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < inC; i++)
        for (let o = 0; o < outC; o++) out[((o * inC + i) * kh + h) * kw + x] = w[((h * kw + x) * inC + i) * outC + o]!;
  return out;
}

export const FRAMES_METADATA_KEYS = {
  preprocessing: 'driftline.preprocessing',
  classes: 'driftline.classes',
  size: 'driftline.frame_size',
} as const;

/**
 * Names of the activation tensors static quantization calibrates (inputs of Conv1, Conv2/after Relu1, Gemm/after
 * Relu2).
 */
export const ACTIVATIONS = { input: INPUT_NAME, relu1: 'relu1', relu2: 'relu2' } as const;

export interface GraphPieces {
  nodes: Node[];
  initializers: Tensor[];
}

/** The layer sequence; `conv`/`gemm`/`act` let the quantized variant wrap weights and activations in Q/DQ. */
export function framesNodes(
  w: CnnWeights,
  hooks: {
    weight: (
      name: string,
      dims: number[],
      data: Float32Array,
      kind: 'conv' | 'gemm',
    ) => { name: string; pieces: GraphPieces };
    bias: (
      name: string,
      data: Float32Array,
      inputAct: string,
      weightName: string,
    ) => { name: string; pieces: GraphPieces };
    act: (tensor: string, range: keyof typeof ACTIVATIONS) => { name: string; pieces: GraphPieces };
  },
): GraphPieces {
  const [f1, f2] = w.filters;
  const k = w.classes.length;
  const nodes: Node[] = [];
  const inits: Tensor[] = [];
  const take = <T extends { name: string; pieces: GraphPieces }>(r: T) => {
    nodes.push(...r.pieces.nodes);
    inits.push(...r.pieces.initializers);
    return r.name;
  };
  const x0 = take(hooks.act(INPUT_NAME, 'input'));
  const w1 = take(hooks.weight('w1', [f1, 1, 3, 3], hwioToOihw(w.w1, 3, 3, 1, f1), 'conv'));
  const b1 = take(hooks.bias('b1', w.b1, 'input', 'w1'));
  nodes.push(
    node('Conv', [x0, w1, b1], ['conv1'], { kernel_shape: [3, 3], strides: [1, 1] }),
    node('Relu', ['conv1'], ['relu1']),
  );
  const r1 = take(hooks.act('relu1', 'relu1'));
  nodes.push(node('MaxPool', [r1], ['pool1'], { kernel_shape: [2, 2], strides: [2, 2] }));
  const p1 = take(hooks.act('pool1', 'relu1'));
  const w2 = take(hooks.weight('w2', [f2, f1, 3, 3], hwioToOihw(w.w2, 3, 3, f1, f2), 'conv'));
  const b2 = take(hooks.bias('b2', w.b2, 'relu1', 'w2'));
  nodes.push(
    node('Conv', [p1, w2, b2], ['conv2'], { kernel_shape: [3, 3], strides: [1, 1] }),
    node('Relu', ['conv2'], ['relu2']),
  );
  const r2 = take(hooks.act('relu2', 'relu2'));
  nodes.push(
    node('MaxPool', [r2], ['pool2'], { kernel_shape: [2, 2], strides: [2, 2] }),
    node('Transpose', ['pool2'], ['pool2_nhwc'], { perm: [0, 2, 3, 1] }),
    node('Flatten', ['pool2_nhwc'], ['flat'], { axis: 1 }),
  );
  const fl = take(hooks.act('flat', 'relu2'));
  const w3 = take(hooks.weight('w3', [w.w3.length / k, k], w.w3, 'gemm'));
  const b3 = take(hooks.bias('b3', w.b3, 'relu2', 'w3'));
  nodes.push(node('Gemm', [fl, w3, b3], ['logits']), node('Softmax', ['logits'], [OUTPUT_NAME], { axis: 1 }));
  return { nodes, initializers: inits };
}

export function framesMetadata(w: CnnWeights, extra: Record<string, string> = {}): Record<string, string> {
  return {
    [FRAMES_METADATA_KEYS.preprocessing]: FRAMES_PREPROCESSING,
    [FRAMES_METADATA_KEYS.size]: String(w.size),
    [FRAMES_METADATA_KEYS.classes]: JSON.stringify(w.classes),
    'driftline.frame_layout': 'NCHW gray [batch,1,size,size], normalizeFrame({ size, gray: true }) values in [0,1]',
    ...extra,
  };
}

const none: GraphPieces = { nodes: [], initializers: [] };

export function exportFramesOnnx(
  w: CnnWeights,
  metadata: Record<string, string> = {},
  extraOutputs: string[] = [],
): Uint8Array {
  const { nodes, initializers } = framesNodes(w, {
    weight: (name, dims, data) => ({ name, pieces: { nodes: [], initializers: [initializer(name, dims, data)] } }),
    bias: (name, data) => ({ name, pieces: { nodes: [], initializers: [initializer(name, [data.length], data)] } }),
    act: (tensor) => ({ name: tensor, pieces: none }),
  });
  return buildModel({
    name: 'driftline-frames-cnn',
    inputs: [valueInfo(INPUT_NAME, DataType.FLOAT, ['batch', 1, w.size, w.size])],
    outputs: [valueInfo(OUTPUT_NAME, DataType.FLOAT, ['batch', w.classes.length]), ...extraOutputs.map(untypedShape)],
    nodes,
    initializers,
    metadata: framesMetadata(w, metadata),
  });
}

/** An output with an element type but no shape (calibration outputs). */
function untypedShape(name: string) {
  const v = valueInfo(name, DataType.FLOAT, []);
  v.type!.tensorType!.shape = null;
  return v;
}

/** OIHW [O,I,kh,kw] -> HWIO [kh,kw,I,O]. */
export function oihwToHwio(w: Float32Array, kh: number, kw: number, inC: number, outC: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let h = 0; h < kh; h++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < inC; i++)
        for (let o = 0; o < outC; o++) out[((h * kw + x) * inC + i) * outC + o] = w[((o * inC + i) * kh + h) * kw + x]!;
  return out;
}

/** The weights and metadata back out of an fp32 frames model written by `exportFramesOnnx`. */
export function weightsFromOnnx(bytes: Uint8Array): { weights: CnnWeights; metadata: Record<string, string> } {
  const model = onnx.ModelProto.decode(bytes);
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  const init = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== DataType.FLOAT || !t.rawData || !t.name)
      throw new Error(`initializer ${t.name} is not raw float32: not an fp32 frames model`);
    const raw = t.rawData;
    const data = new Float32Array(raw.byteLength / 4);
    new Uint8Array(data.buffer).set(raw);
    init.set(t.name, { dims: (t.dims ?? []).map(Number), data });
  }
  const get = (n: string) => {
    const v = init.get(n);
    if (!v) throw new Error(`initializer ${n} missing: not a frames model`);
    return v;
  };
  const classes = JSON.parse(metadata[FRAMES_METADATA_KEYS.classes] ?? 'null') as string[] | null;
  const size = Number(metadata[FRAMES_METADATA_KEYS.size]);
  if (!classes || !Number.isInteger(size)) throw new Error('frames model metadata lacks classes or frame size');
  const w1 = get('w1');
  const w2 = get('w2');
  const f1 = w1.dims[0]!;
  const f2 = w2.dims[0]!;
  return {
    weights: {
      size,
      filters: [f1, f2],
      classes,
      w1: oihwToHwio(w1.data, 3, 3, 1, f1),
      b1: get('b1').data,
      w2: oihwToHwio(w2.data, 3, 3, f1, f2),
      b2: get('b2').data,
      w3: get('w3').data,
      b3: get('b3').data,
    },
    metadata,
  };
}
