/**
 * Graph rewrites of a serialized fp32 ONNX model (generic: any graph whose weight matrices are float initializers
 * feeding MatMul as the second input, like the dense classifiers driftline exports).
 *
 * INT8 ("dynamic quantization of weights", done in the graph): each such weight matrix W [in, out] is stored as int8
 * with a float scale per output column (symmetric: scale = max|W[:, j]| / 127, zero point 0), and a
 * DequantizeLinear (axis = 1) node turns it back to float right before the MatMul. Activations stay float32, so the
 * model needs no calibration data (the calibration rows of the contract are not used); the file shrinks ~4×.
 *
 * Runtime cost (onnxruntime-node 1.30, CPU): by default ORT keeps DequantizeLinear nodes out of constant folding
 * (to preserve QDQ patterns for quantized kernels), so the large W1 is dequantized on EVERY run (~1.5 ms for
 * 16384×32: batch-1 throughput drops ~8×). With the session config `session.disable_quant_qdq = 1`
 * (`FOLD_DEQUANTIZE_SESSION_OPTIONS`), constant folding turns the DequantizeLinear of initializers into fp32 weights
 * at load time: the int8 file stays ~4× smaller, inference runs at fp32 speed with the int8-rounded weights.
 * (Also by default, ORT fuses the small DequantizeLinear→MatMul of W2 into com.microsoft MatMulNBits, which
 * quantizes activations too: default-session int8 output differs from the folded one by ~1e-3; both pass parity.)
 *
 * FP16: every float initializer becomes FLOAT16, the float input is Cast to fp16 first and the float output Cast
 * back to float32 at the end, so the graph computes in fp16. Whether ONNX Runtime's CPU provider has the fp16
 * kernels is a property of the runtime build: onnxruntime-node 1.30's CPU provider runs the graph but inserts Casts
 * to float32 around every op (no fp16 kernels), see `postingsClassifier.toFloat16`.
 */
import onnxProto from 'onnx-proto';
import { DataType, initializer, node } from '../onnx/builder.ts';

const { onnx } = onnxProto;
type ModelProto = InstanceType<typeof onnx.ModelProto>;
type TensorProto = Parameters<typeof onnx.TensorProto.encode>[0];
type NodeProto = Parameters<typeof onnx.NodeProto.encode>[0];
type GraphProto = InstanceType<typeof onnx.GraphProto>;

/** onnxruntime-node session options that fold DequantizeLinear(initializer) at load time (see the file comment). */
export const FOLD_DEQUANTIZE_SESSION_OPTIONS = { extra: { session: { disable_quant_qdq: '1' } } } as const;

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** The values of a FLOAT initializer (raw_data or float_data). */
export function floatValues(t: TensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT) throw new Error(`initializer ${t.name} is not FLOAT`);
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

const dimsOf = (t: TensorProto) => (t.dims ?? []).map((d) => Number(d));

/** Symmetric per-column int8 quantization of row-major [rows, cols]: q = round(w / scale[col]), scale = max|w|/127. */
export function quantizePerColumn(w: Float32Array, rows: number, cols: number): { q: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(w[r * cols + c]!);
      if (a > scales[c]!) scales[c] = a;
    }
  }
  for (let c = 0; c < cols; c++) scales[c] = scales[c]! > 0 ? scales[c]! / 127 : 1;
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++)
      q[r * cols + c] = Math.max(-127, Math.min(127, Math.round(w[r * cols + c]! / scales[c]!)));
  }
  return { q, scales };
}

/** INT8 weight quantization of every MatMul whose second input is a 2-D float initializer (see the file comment). */
export function quantizeWeightsInt8(fp32: Uint8Array): Uint8Array {
  const model = decodeModel(fp32);
  const graph = model.graph as GraphProto;
  const inits = new Map(graph.initializer.map((t) => [t.name!, t]));
  const replaced = new Set<string>();
  const newNodes: NodeProto[] = [];
  const newInits: TensorProto[] = [];
  for (const n of graph.node) {
    const wName = n.input?.[1];
    const w = wName === undefined ? undefined : inits.get(wName);
    if (n.opType === 'MatMul' && w !== undefined && w.dataType === DataType.FLOAT && dimsOf(w).length === 2) {
      const [rows, cols] = dimsOf(w) as [number, number];
      if (!replaced.has(wName!)) {
        const { q, scales } = quantizePerColumn(floatValues(w), rows, cols);
        newInits.push(
          initializer(`${wName}_q`, [rows, cols], q),
          initializer(`${wName}_scale`, [cols], scales),
          initializer(`${wName}_zero`, [cols], new Int8Array(cols)),
        );
        newNodes.push(
          node('DequantizeLinear', [`${wName}_q`, `${wName}_scale`, `${wName}_zero`], [`${wName}_dq`], { axis: 1 }),
        );
        replaced.add(wName!);
      }
      n.input = [n.input![0]!, `${wName}_dq`];
    }
    newNodes.push(n);
  }
  if (replaced.size === 0) throw new Error('quantizeWeightsInt8: no MatMul with a 2-D float weight initializer found');
  graph.initializer = [...graph.initializer.filter((t) => !replaced.has(t.name!)), ...newInits];
  graph.node = newNodes;
  model.metadataProps = [
    ...(model.metadataProps ?? []),
    onnx.StringStringEntryProto.create({ key: 'driftline.precision', value: 'int8' }),
  ];
  return encodeModel(model);
}

/** IEEE 754 binary32 → binary16 bits, round to nearest even (subnormals, infinities, NaN handled). */
export function toHalfBits(value: number): number {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  f[0] = value;
  const x = u[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** fp16 variant: FLOAT16 initializers, Cast(input → fp16) first, Cast(output → float) last. */
export function convertToFloat16(fp32: Uint8Array): Uint8Array {
  const model = decodeModel(fp32);
  const graph = model.graph as GraphProto;
  graph.initializer = graph.initializer.map((t) => {
    if (t.dataType !== DataType.FLOAT) return t;
    const v = floatValues(t);
    return initializer(t.name!, dimsOf(t), Uint16Array.from(v, toHalfBits), DataType.FLOAT16);
  });
  const rename = new Map<string, string>();
  const castIn: NodeProto[] = [];
  for (const input of graph.input) {
    if (input.type?.tensorType?.elemType !== DataType.FLOAT) continue;
    rename.set(input.name!, `${input.name}_fp16`);
    castIn.push(node('Cast', [input.name!], [`${input.name}_fp16`], { to: DataType.FLOAT16 }));
  }
  const castOut: NodeProto[] = [];
  const outRename = new Map<string, string>();
  for (const output of graph.output) {
    if (output.type?.tensorType?.elemType !== DataType.FLOAT) continue;
    outRename.set(output.name!, `${output.name}_fp16`);
    castOut.push(node('Cast', [`${output.name}_fp16`], [output.name!], { to: DataType.FLOAT }));
  }
  for (const n of graph.node) {
    n.input = (n.input ?? []).map((i) => rename.get(i) ?? i);
    n.output = (n.output ?? []).map((o) => outRename.get(o) ?? o);
    // Cast nodes inside the graph that target float now target fp16
    for (const a of n.attribute ?? [])
      if (n.opType === 'Cast' && a.name === 'to' && Number(a.i) === DataType.FLOAT) a.i = DataType.FLOAT16;
  }
  graph.node = [...castIn, ...graph.node, ...castOut];
  model.metadataProps = [
    ...(model.metadataProps ?? []),
    onnx.StringStringEntryProto.create({ key: 'driftline.precision', value: 'fp16' }),
  ];
  return encodeModel(model);
}

/** A copy of the model with every float initializer whose name is in `names` transformed (e.g. perturbed for tests). */
export function mapFloatInitializers(
  bytes: Uint8Array,
  names: string[],
  fn: (values: Float32Array, name: string) => Float32Array,
): Uint8Array {
  const model = decodeModel(bytes);
  const graph = model.graph as GraphProto;
  graph.initializer = graph.initializer.map((t) =>
    names.includes(t.name!) && t.dataType === DataType.FLOAT
      ? initializer(t.name!, dimsOf(t), fn(floatValues(t), t.name!))
      : t,
  );
  return encodeModel(model);
}
