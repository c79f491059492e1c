/**
 * Static, calibrated INT8 (QDQ) and fp16 variants of the fp32 frames CNN.
 *
 * INT8 follows ONNX Runtime's recommendation for CNNs: QDQ format, activations uint8 asymmetric with ranges
 * calibrated (min/max) on real inputs, weights int8 symmetric, per output channel (axis 0) for Conv kernels and
 * per output column (axis 1) for the Gemm weight, biases int32 at scale s_input * s_weight. The calibration pass runs
 * the fp32 network's forward in plain JS (synchronous, as `ModelKind.quantizeInt8` is) over the calibration rows and
 * keeps min/max of every tensor that feeds a Conv or the Gemm: the input, relu1 (-> pool1 -> Conv2) and relu2
 * (-> pool2 -> Gemm). MaxPool/Transpose/Flatten keep values, so they share their input's quantization.
 * The input is centred (Sub of its calibration mean, folded back into conv1's bias) before it is quantized, and
 * conv1's 72 weights stay fp32 by default (see `Int8Options.fp32Weights`): every other weight is int8.
 *
 * fp16: every float initializer as FLOAT16, a Cast to fp16 after the input and back to fp32 before the output, so
 * the model keeps the float32 `input`/`probabilities` contract.
 */
import { toHalfBits } from '../postings/quantize.ts';
import { DataType, buildModel, initializer, node, valueInfo, type Node, type Tensor } from '../onnx/builder.ts';
import { INPUT_NAME, OUTPUT_NAME, type HeldOut } from '../model-contract.ts';
import { cnnShapes } from './train.ts';
import {
  type ACTIVATIONS,
  exportFramesOnnx,
  framesMetadata,
  framesNodes,
  weightsFromOnnx,
  type CnnWeights,
} from './export.ts';

export type ActivationRanges = Record<keyof typeof ACTIVATIONS, { min: number; max: number }>;

/** min/max of the input, relu1 and relu2 over the calibration rows (fp32 forward in JS, tfjs layouts). */
export function calibrateRanges(w: CnnWeights, calibration: HeldOut): ActivationRanges {
  const { size, filters } = w;
  const [f1, f2] = filters;
  const { h1, p1, h2 } = cnnShapes(size, filters);
  const px = size * size;
  const n = calibration.inputs.length / px;
  const ranges: ActivationRanges = {
    input: { min: Infinity, max: -Infinity },
    relu1: { min: 0, max: 0 },
    relu2: { min: 0, max: 0 },
  };
  const a1 = new Float32Array(h1 * h1 * f1);
  const q1 = new Float32Array(p1 * p1 * f1);
  for (let r = 0; r < n; r++) {
    const x = calibration.inputs.subarray(r * px, (r + 1) * px);
    for (const v of x) {
      if (v < ranges.input.min) ranges.input.min = v;
      if (v > ranges.input.max) ranges.input.max = v;
    }
    for (let y = 0; y < h1; y++)
      for (let xx = 0; xx < h1; xx++)
        for (let o = 0; o < f1; o++) {
          let acc = w.b1[o]!;
          for (let kh = 0; kh < 3; kh++)
            for (let kw = 0; kw < 3; kw++) acc += x[(y + kh) * size + xx + kw]! * w.w1[(kh * 3 + kw) * f1 + o]!;
          const v = Math.max(0, acc);
          a1[(y * h1 + xx) * f1 + o] = v;
          if (v > ranges.relu1.max) ranges.relu1.max = v;
        }
    for (let y = 0; y < p1; y++)
      for (let xx = 0; xx < p1; xx++)
        for (let o = 0; o < f1; o++) {
          let m = -Infinity;
          for (let dy = 0; dy < 2; dy++)
            for (let dx = 0; dx < 2; dx++) m = Math.max(m, a1[((2 * y + dy) * h1 + 2 * xx + dx) * f1 + o]!);
          q1[(y * p1 + xx) * f1 + o] = m;
        }
    for (let y = 0; y < h2; y++)
      for (let xx = 0; xx < h2; xx++)
        for (let o = 0; o < f2; o++) {
          let acc = w.b2[o]!;
          for (let kh = 0; kh < 3; kh++)
            for (let kw = 0; kw < 3; kw++)
              for (let i = 0; i < f1; i++)
                acc += q1[((y + kh) * p1 + xx + kw) * f1 + i]! * w.w2[((kh * 3 + kw) * f1 + i) * f2 + o]!;
          if (acc > ranges.relu2.max) ranges.relu2.max = acc;
        }
  }
  return ranges;
}

/** uint8 asymmetric quantization parameters for a range (always containing 0, as ONNX requires). */
export function uint8Params(min: number, max: number): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  return { scale, zeroPoint: Math.max(0, Math.min(255, Math.round(-lo / scale))) };
}

/** int8 symmetric quantization of `data` viewed as [channels, rest] (per channel) or one tensor (channels = 1). */
export function int8Symmetric(
  data: Float32Array,
  channels: number,
  channelStride: number,
  channelStep: number,
): { q: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(channels);
  const per = data.length / channels;
  const at = (c: number, j: number) => c * channelStride + j * channelStep;
  for (let c = 0; c < channels; c++) {
    let m = 0;
    for (let j = 0; j < per; j++) m = Math.max(m, Math.abs(data[at(c, j)]!));
    scales[c] = m > 0 ? m / 127 : 1;
  }
  const q = new Int8Array(data.length);
  for (let c = 0; c < channels; c++)
    for (let j = 0; j < per; j++) q[at(c, j)] = Math.max(-127, Math.min(127, Math.round(data[at(c, j)]! / scales[c]!)));
  return { q, scales };
}

export interface Int8Options {
  /** Quantize the final Gemm (weights int8 per output column, input uint8) or keep it fp32. Default 'int8'. */
  gemm?: 'int8' | 'fp32';
  /**
   * Weights kept fp32 (their layer then runs as DQ(input) -> float Conv). Default ['w1']: conv1 has 9 weights per
   * channel on a single grey channel and its int8 rounding alone moved held-out probabilities by up to 0.21
   * (0.09 with the input centring below); with w1 in fp32 (72 values) the whole model stays within 0.04.
   */
  fp32Weights?: ('w1' | 'w2' | 'w3')[];
}

export function quantizeFramesInt8(fp32: Uint8Array, calibration: HeldOut, options: Int8Options = {}): Uint8Array {
  const gemm = options.gemm ?? 'int8';
  const fp32Weights: string[] = options.fp32Weights ?? ['w1'];
  const { weights: w, metadata } = weightsFromOnnx(fp32);
  const ranges = calibrateRanges(w, calibration);
  // Centre the input before quantizing it: conv1 sees mean-subtracted pixels and its bias absorbs mean * sum(w1).
  // Without this, the int8 rounding errors of conv1's 9 weights per channel multiply the (large, common) mean
  // intensity instead of only the texture around it, and dominate the INT8 error (measured: max |dp| 0.21 from
  // w1 alone vs 0.03 from w2 and 0.007 from w3).
  let mean = 0;
  for (const v of calibration.inputs) mean += v;
  mean = Math.fround(mean / calibration.inputs.length);
  ranges.input = { min: ranges.input.min - mean, max: ranges.input.max - mean };
  const [f1] = w.filters;
  const b1Centred = Float32Array.from(w.b1, (b, o) => {
    let sum = 0;
    for (let k = 0; k < 9; k++) sum += w.w1[k * f1 + o]!;
    return b + mean * sum;
  });
  const act = Object.fromEntries(Object.entries(ranges).map(([k, r]) => [k, uint8Params(r.min, r.max)])) as Record<
    keyof ActivationRanges,
    { scale: number; zeroPoint: number }
  >;
  const weightScales = new Map<string, Float32Array>();
  const actInits = new Set<string>();
  const { nodes, initializers } = framesNodes(w, {
    weight: (name, dims, data, kind) => {
      if ((kind === 'gemm' && gemm === 'fp32') || fp32Weights.includes(name))
        return { name, pieces: { nodes: [], initializers: [initializer(name, dims, data)] } };
      // Conv OIHW [O, I, kh, kw]: per output channel, axis 0 (contiguous rows). Gemm B [K, N]: per output column, axis
      // 1.
      const { q, scales } =
        kind === 'conv'
          ? int8Symmetric(data, dims[0]!, data.length / dims[0]!, 1)
          : int8Symmetric(data, dims[1]!, 1, dims[1]!);
      weightScales.set(name, scales);
      const inits: Tensor[] = [
        initializer(`${name}_q`, dims, q),
        initializer(`${name}_scale`, [scales.length], scales),
        initializer(`${name}_zp`, [scales.length], new Int8Array(scales.length)),
      ];
      const attrs: Record<string, number> = { axis: kind === 'conv' ? 0 : 1 };
      return {
        name: `${name}_dq`,
        pieces: {
          nodes: [node('DequantizeLinear', [`${name}_q`, `${name}_scale`, `${name}_zp`], [`${name}_dq`], attrs)],
          initializers: inits,
        },
      };
    },
    bias: (name, original, inputAct, weightName) => {
      const data = name === 'b1' ? b1Centred : original;
      if ((name === 'b3' && gemm === 'fp32') || fp32Weights.includes(weightName))
        return { name, pieces: { nodes: [], initializers: [initializer(name, [data.length], data)] } };
      const ws = weightScales.get(weightName)!;
      const sIn = act[inputAct as keyof ActivationRanges].scale;
      const scales = Float32Array.from(data, (_, i) => sIn * ws[ws.length === 1 ? 0 : i]!);
      const q = Int32Array.from(data, (v, i) => Math.round(v / scales[i]!));
      return {
        name: `${name}_dq`,
        pieces: {
          nodes: [node('DequantizeLinear', [`${name}_q`, `${name}_scale`, `${name}_zp`], [`${name}_dq`], { axis: 0 })],
          initializers: [
            initializer(`${name}_q`, [data.length], q),
            initializer(`${name}_scale`, [data.length], scales),
            initializer(`${name}_zp`, [data.length], new Int32Array(data.length)),
          ],
        },
      };
    },
    act: (tensor, range) => {
      if (tensor === 'flat' && gemm === 'fp32') return { name: tensor, pieces: { nodes: [], initializers: [] } };
      const { scale, zeroPoint } = act[range];
      const inits: Tensor[] = [];
      const centre: Node[] = [];
      if (tensor === INPUT_NAME) {
        inits.push(initializer('input_mean', [], Float32Array.of(mean)));
        centre.push(node('Sub', [INPUT_NAME, 'input_mean'], ['input_centred']));
        tensor = 'input_centred';
      }
      if (!actInits.has(range)) {
        actInits.add(range);
        inits.push(
          initializer(`${range}_act_scale`, [], Float32Array.of(scale)),
          initializer(`${range}_act_zp`, [], Uint8Array.of(zeroPoint)),
        );
      }
      return {
        name: `${tensor}_dq`,
        pieces: {
          nodes: [
            ...centre,
            node('QuantizeLinear', [tensor, `${range}_act_scale`, `${range}_act_zp`], [`${tensor}_q`]),
            node('DequantizeLinear', [`${tensor}_q`, `${range}_act_scale`, `${range}_act_zp`], [`${tensor}_dq`]),
          ],
          initializers: inits,
        },
      };
    },
  });
  return buildModel({
    name: 'driftline-frames-cnn-int8',
    inputs: [valueInfo(INPUT_NAME, DataType.FLOAT, ['batch', 1, w.size, w.size])],
    outputs: [valueInfo(OUTPUT_NAME, DataType.FLOAT, ['batch', w.classes.length])],
    nodes,
    initializers,
    metadata: {
      ...metadata,
      ...framesMetadata(w),
      'driftline.precision': 'int8',
      'driftline.quantization':
        `static QDQ: activations uint8 asymmetric (min/max ` +
        `over ${calibration.labels.length} calibration rows), weights int8 symmetric (Conv per-channel axis 0, ` +
        `Gemm ${gemm === 'int8' ? 'per-column axis 1' : 'kept fp32'}; fp32: ${fp32Weights.join(',') || 'none'}), ` +
        `bias int32; input centred by its calibration mean`,
      'driftline.calibration_ranges': JSON.stringify(ranges),
      'driftline.input_mean': String(mean),
    },
  });
}

export { toHalfBits };

export function toFloat16Array(data: Float32Array): Uint16Array {
  return Uint16Array.from(data, toHalfBits);
}

/** fp16 variant: FLOAT16 weights, Cast in/out so the graph I/O stays float32. */
export function framesToFloat16(fp32: Uint8Array): Uint8Array {
  const { weights: w, metadata } = weightsFromOnnx(fp32);
  const { nodes, initializers } = framesNodes(w, {
    weight: (name, dims, data) => ({
      name,
      pieces: { nodes: [], initializers: [initializer(name, dims, toFloat16Array(data), DataType.FLOAT16)] },
    }),
    bias: (name, data) => ({
      name,
      pieces: { nodes: [], initializers: [initializer(name, [data.length], toFloat16Array(data), DataType.FLOAT16)] },
    }),
    act: (tensor, range) =>
      range === 'input' && tensor === INPUT_NAME
        ? {
            name: 'input_fp16',
            pieces: { nodes: [node('Cast', [INPUT_NAME], ['input_fp16'], { to: DataType.FLOAT16 })], initializers: [] },
          }
        : { name: tensor, pieces: { nodes: [], initializers: [] } },
  });
  // Softmax writes `probabilities`: rename it to an fp16 tensor and Cast back to float32.
  const last = nodes[nodes.length - 1]!;
  last.output = ['probabilities_fp16'];
  nodes.push(node('Cast', ['probabilities_fp16'], [OUTPUT_NAME], { to: DataType.FLOAT }));
  return buildModel({
    name: 'driftline-frames-cnn-fp16',
    inputs: [valueInfo(INPUT_NAME, DataType.FLOAT, ['batch', 1, w.size, w.size])],
    outputs: [valueInfo(OUTPUT_NAME, DataType.FLOAT, ['batch', w.classes.length])],
    nodes,
    initializers,
    metadata: { ...metadata, ...framesMetadata(w), 'driftline.precision': 'fp16' },
  });
}

export { exportFramesOnnx };
