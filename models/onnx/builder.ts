/**
 * A small builder for ONNX models written from TypeScript (onnx-proto): enough to export the networks driftline
 * trains (dense and convolutional classifiers) and their quantized variants, so no Python toolchain is needed.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export const DataType = onnx.TensorProto.DataType;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

export type Tensor = InstanceType<typeof onnx.TensorProto>;
export type Node = InstanceType<typeof onnx.NodeProto>;

/** A constant tensor (weights, scales, shapes) stored in the model as raw little-endian bytes. */
export function initializer(
  name: string,
  dims: number[],
  data: Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array | Uint16Array,
  dataType?: DataTypeCode,
): Tensor {
  const type =
    dataType ??
    (data instanceof Float32Array
      ? DataType.FLOAT
      : data instanceof Int8Array
        ? DataType.INT8
        : data instanceof Uint8Array
          ? DataType.UINT8
          : data instanceof Int32Array
            ? DataType.INT32
            : data instanceof BigInt64Array
              ? DataType.INT64
              : DataType.FLOAT16);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected)
    throw new Error(`initializer ${name}: ${data.length} values for dims [${dims.join(', ')}] (${expected} expected)`);
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: type,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
}

type AttributeValue = number | number[] | string | Tensor;

/** One operator. Integer-valued numbers become INT attributes unless listed in `floatAttributes`. */
export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, AttributeValue> = {},
  floatAttributes: string[] = [],
): Node {
  const attribute = Object.entries(attributes).map(([name, value]) => {
    const A = onnx.AttributeProto.AttributeType;
    if (typeof value === 'string')
      return onnx.AttributeProto.create({ name, type: A.STRING, s: new TextEncoder().encode(value) });
    if (Array.isArray(value)) {
      return floatAttributes.includes(name)
        ? onnx.AttributeProto.create({ name, type: A.FLOATS, floats: value })
        : onnx.AttributeProto.create({ name, type: A.INTS, ints: value });
    }
    if (typeof value === 'number') {
      return floatAttributes.includes(name) || !Number.isInteger(value)
        ? onnx.AttributeProto.create({ name, type: A.FLOAT, f: value })
        : onnx.AttributeProto.create({ name, type: A.INT, i: value });
    }
    return onnx.AttributeProto.create({ name, type: A.TENSOR, t: value });
  });
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, name: `${opType}_${outputs[0]}`, attribute });
}

/** A graph input or output: element type and shape, where a string dimension is symbolic (e.g. 'batch'). */
export function valueInfo(name: string, elemType: DataTypeCode, shape: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType,
        shape: onnx.TensorShapeProto.create({
          dim: shape.map((d) =>
            typeof d === 'number'
              ? onnx.TensorShapeProto.Dimension.create({ dimValue: d })
              : onnx.TensorShapeProto.Dimension.create({ dimParam: d }),
          ),
        }),
      }),
    }),
  });
}

export interface ModelParts {
  name: string;
  inputs: ReturnType<typeof valueInfo>[];
  outputs: ReturnType<typeof valueInfo>[];
  nodes: Node[];
  initializers: Tensor[];
  /** Key/value metadata stored in the model (lineage, preprocessing contract). */
  metadata?: Record<string, string>;
  opset?: number;
}

/** Serializes a model; opset 17 is supported by every onnxruntime-node release we use. */
export function buildModel(parts: ModelParts): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'driftline',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: parts.opset ?? 17 })],
    graph: onnx.GraphProto.create({
      name: parts.name,
      input: parts.inputs,
      output: parts.outputs,
      node: parts.nodes,
      initializer: parts.initializers,
    }),
    metadataProps: Object.entries(parts.metadata ?? {}).map(([key, value]) =>
      onnx.StringStringEntryProto.create({ key, value }),
    ),
  });
  return onnx.ModelProto.encode(model).finish();
}
