// Runs an ONNX model's graph with tfjs ops (wasm backend): the second inference backend of the `infer` operator.
// Plain JavaScript on purpose, like inference-worker.js: it is loaded inside the inference threads, which do not
// inherit the tsx loader.
//
// The graph is executed node by node in the order stored (ONNX graphs are topologically sorted), every value in
// float32: Cast to float16/double is a no-op here, int8/uint8 initializers become float32 tensors of their integer
// values, and QuantizeLinear on activations is simulated (round(x / scale) + zero point, clipped to the integer
// range, kept as float). Nodes whose inputs are all constants (DequantizeLinear of int8 weights, Cast of fp16
// weights, Constant) are evaluated once at load. Only the nodes the requested outputs depend on run.
//
// Supported ops: MatMul, Gemm, Add, Sub, Mul, Div, Relu, Sigmoid, Tanh, Softmax, Conv (2-D, group 1), MaxPool (2-D),
// GlobalAveragePool, Transpose, Reshape, Flatten, Cast (to float types), DequantizeLinear, QuantizeLinear, Identity,
// Dropout (identity), Constant. Anything else fails at load with an error naming the op.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;

let tfPromise;

/** tfjs with the wasm backend active (loaded once per thread). */
export function loadTfjs() {
  tfPromise ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialize');
    await tf.ready();
    return tf;
  })();
  return tfPromise;
}

export const SUPPORTED_OPS = [
  'MatMul',
  'Gemm',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Relu',
  'Sigmoid',
  'Tanh',
  'Softmax',
  'Conv',
  'MaxPool',
  'GlobalAveragePool',
  'Transpose',
  'Reshape',
  'Flatten',
  'Cast',
  'DequantizeLinear',
  'QuantizeLinear',
  'Identity',
  'Dropout',
  'Constant',
];

const FLOAT_TYPES = new Set([T.FLOAT, T.FLOAT16, T.DOUBLE, T.BFLOAT16]);

function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function aligned(raw) {
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  return copy.buffer;
}

/** A TensorProto's values as float32 (every element type driftline models use), with its dims and element type. */
export function tensorValues(t) {
  const dims = (t.dims ?? []).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const type = t.dataType;
  const raw = t.rawData && t.rawData.length > 0 ? aligned(t.rawData) : undefined;
  let values;
  switch (type) {
    case T.FLOAT:
      values = raw ? new Float32Array(raw) : Float32Array.from(t.floatData ?? []);
      break;
    case T.DOUBLE:
      values = Float32Array.from(raw ? new Float64Array(raw) : (t.doubleData ?? []));
      break;
    case T.FLOAT16:
      values = Float32Array.from(raw ? new Uint16Array(raw) : (t.int32Data ?? []), halfToFloat);
      break;
    case T.INT8:
      values = Float32Array.from(raw ? new Int8Array(raw) : (t.int32Data ?? []));
      break;
    case T.UINT8:
    case T.BOOL:
      values = Float32Array.from(raw ? new Uint8Array(raw) : (t.int32Data ?? []));
      break;
    case T.INT16:
      values = Float32Array.from(raw ? new Int16Array(raw) : (t.int32Data ?? []));
      break;
    case T.UINT16:
      values = Float32Array.from(raw ? new Uint16Array(raw) : (t.int32Data ?? []));
      break;
    case T.INT32:
      values = Float32Array.from(raw ? new Int32Array(raw) : (t.int32Data ?? []));
      break;
    case T.INT64:
      values = Float32Array.from(raw ? Array.from(new BigInt64Array(raw), Number) : (t.int64Data ?? []).map(Number));
      break;
    default:
      throw new Error(`tensor ${t.name}: element type ${type} is not supported by the tfjs backend`);
  }
  if (values.length !== count)
    throw new Error(`tensor ${t.name}: ${values.length} values for dims [${dims.join(', ')}]`);
  return { dims, type, values };
}

function attributes(n) {
  const out = {};
  const A = onnx.AttributeProto.AttributeType;
  for (const a of n.attribute ?? []) {
    switch (a.type) {
      case A.INT:
        out[a.name] = Number(a.i);
        break;
      case A.FLOAT:
        out[a.name] = a.f;
        break;
      case A.INTS:
        out[a.name] = (a.ints ?? []).map(Number);
        break;
      case A.FLOATS:
        out[a.name] = [...(a.floats ?? [])];
        break;
      case A.STRING:
        out[a.name] = new TextDecoder().decode(a.s);
        break;
      case A.TENSOR:
        out[a.name] = a.t;
        break;
      default:
        out[a.name] = undefined;
    }
  }
  return out;
}

const normAxis = (axis, rank) => (axis < 0 ? axis + rank : axis);
const prod = (xs) => xs.reduce((a, b) => a * b, 1);

/** Shape [1, …, C at `axis`, …, 1] so a per-axis vector broadcasts against a tensor of rank `rank`. */
function perAxis(v, axis, rank) {
  if (v.rank === 0 || v.size === 1) return v.rank === 0 ? v : v.reshape([]);
  const shape = new Array(rank).fill(1);
  shape[normAxis(axis, rank)] = v.size;
  return v.reshape(shape);
}

function quantRange(zpType) {
  switch (zpType) {
    case T.INT8:
      return [-128, 127];
    case T.INT16:
      return [-32768, 32767];
    case T.UINT16:
      return [0, 65535];
    case T.INT32:
      return [-2147483648, 2147483647];
    default:
      return [0, 255]; // uint8, also when the zero point is absent
  }
}

function conv(tf, x, wHwio, bias, a) {
  if (x.rank !== 4) throw new Error(`Conv: only 2-D convolutions (NCHW input) are supported, input has rank ${x.rank}`);
  if ((a.group ?? 1) !== 1) throw new Error(`Conv: group ${a.group} is not supported (group 1 only)`);
  const strides = a.strides ?? [1, 1];
  const dilations = a.dilations ?? [1, 1];
  const autoPad = a.auto_pad ?? 'NOTSET';
  let nhwc = x.transpose([0, 2, 3, 1]);
  let pad = 'valid';
  if (autoPad === 'SAME_UPPER') pad = 'same';
  else if (autoPad === 'SAME_LOWER') throw new Error('Conv: auto_pad SAME_LOWER is not supported');
  else if (autoPad === 'NOTSET' && a.pads && a.pads.some((p) => p !== 0)) {
    const [t, l, b, r] = a.pads;
    nhwc = tf.pad(nhwc, [
      [0, 0],
      [t, b],
      [l, r],
      [0, 0],
    ]);
  }
  let y = tf.conv2d(nhwc, wHwio, strides, pad, 'NHWC', dilations);
  if (bias) y = tf.add(y, bias);
  return y.transpose([0, 3, 1, 2]);
}

function maxPool(tf, x, a) {
  if (x.rank !== 4) throw new Error(`MaxPool: only 2-D pooling (NCHW input) is supported, input has rank ${x.rank}`);
  if ((a.ceil_mode ?? 0) !== 0) throw new Error('MaxPool: ceil_mode 1 is not supported');
  if ((a.dilations ?? [1, 1]).some((d) => d !== 1)) throw new Error('MaxPool: dilations are not supported');
  const k = a.kernel_shape;
  if (k?.length !== 2) throw new Error('MaxPool: kernel_shape of length 2 required');
  const strides = a.strides ?? [1, 1];
  const autoPad = a.auto_pad ?? 'NOTSET';
  let nhwc = x.transpose([0, 2, 3, 1]);
  let pad = 'valid';
  if (autoPad === 'SAME_UPPER') pad = 'same';
  else if (autoPad === 'SAME_LOWER') throw new Error('MaxPool: auto_pad SAME_LOWER is not supported');
  else if (autoPad === 'NOTSET' && a.pads && a.pads.some((p) => p !== 0)) {
    const [t, l, b, r] = a.pads;
    nhwc = tf.pad(
      nhwc,
      [
        [0, 0],
        [t, b],
        [l, r],
        [0, 0],
      ],
      -Infinity,
    );
  }
  return tf.maxPool(nhwc, k, strides, pad).transpose([0, 3, 1, 2]);
}

function softmax(tf, x, a, opset) {
  const rank = x.rank;
  if (opset < 13) {
    // Softmax-1/11: coerce to 2-D at `axis` (default 1), softmax over the second dimension.
    const axis = normAxis(a.axis ?? 1, rank);
    const flat = x.reshape([prod(x.shape.slice(0, axis)), prod(x.shape.slice(axis))]);
    return tf.softmax(flat, -1).reshape(x.shape);
  }
  const axis = normAxis(a.axis ?? -1, rank);
  if (axis === rank - 1) return tf.softmax(x, -1);
  const perm = [...Array(rank).keys()];
  perm[axis] = rank - 1;
  perm[rank - 1] = axis;
  return tf.softmax(x.transpose(perm), -1).transpose(perm);
}

function matMul(tf, a, b) {
  if (a.rank === 2 && b.rank === 2) return tf.matMul(a, b);
  if (b.rank === 2 && a.rank > 2) {
    const k = a.shape[a.rank - 1];
    return tf.matMul(a.reshape([-1, k]), b).reshape([...a.shape.slice(0, -1), b.shape[1]]);
  }
  if (a.rank === 1 && b.rank === 2) return tf.matMul(a.reshape([1, -1]), b).reshape([b.shape[1]]);
  if (a.rank === 2 && b.rank === 1) return tf.matMul(a, b.reshape([-1, 1])).reshape([a.shape[0]]);
  return tf.matMul(a, b);
}

/**
 * One node. `v(i)` is input i as a tensor (undefined when absent), `c(i)` its constant values when it is a constant
 * (initializer or folded), `type(i)` its ONNX element type when known.
 */
function evaluate(tf, n, a, v, c, type, opset, prepared) {
  switch (n.opType) {
    case 'Identity':
    case 'Dropout':
      return v(0);
    case 'Add':
      return tf.add(v(0), v(1));
    case 'Sub':
      return tf.sub(v(0), v(1));
    case 'Mul':
      return tf.mul(v(0), v(1));
    case 'Div':
      return tf.div(v(0), v(1));
    case 'Relu':
      return tf.relu(v(0));
    case 'Sigmoid':
      return tf.sigmoid(v(0));
    case 'Tanh':
      return tf.tanh(v(0));
    case 'Softmax':
      return softmax(tf, v(0), a, opset);
    case 'MatMul':
      return matMul(tf, v(0), v(1));
    case 'Gemm': {
      const alpha = a.alpha ?? 1;
      const beta = a.beta ?? 1;
      let y = tf.matMul(v(0), v(1), (a.transA ?? 0) === 1, (a.transB ?? 0) === 1);
      if (alpha !== 1) y = tf.mul(y, alpha);
      const bias = v(2);
      if (bias) y = tf.add(y, beta === 1 ? bias : tf.mul(bias, beta));
      return y;
    }
    case 'Conv':
      return conv(tf, v(0), prepared ?? v(1).transpose([2, 3, 1, 0]), v(2), a);
    case 'MaxPool':
      return maxPool(tf, v(0), a);
    case 'GlobalAveragePool': {
      const x = v(0);
      return tf.mean(x, [...Array(x.rank).keys()].slice(2), true);
    }
    case 'Transpose': {
      const x = v(0);
      return x.transpose(a.perm ?? [...Array(x.rank).keys()].reverse());
    }
    case 'Reshape': {
      const x = v(0);
      const spec = c(1);
      if (!spec) throw new Error('Reshape: the shape must be a constant (initializer)');
      const shape = Array.from(spec.values, (d, i) => (d === 0 && !a.allowzero ? x.shape[i] : d));
      return x.reshape(shape);
    }
    case 'Flatten': {
      const x = v(0);
      const axis = normAxis(a.axis ?? 1, x.rank);
      return x.reshape([prod(x.shape.slice(0, axis)), prod(x.shape.slice(axis))]);
    }
    case 'Cast': {
      if (!FLOAT_TYPES.has(a.to))
        throw new Error(`Cast: to element type ${a.to} is not supported (the tfjs backend computes in float32)`);
      return tf.cast(v(0), 'float32');
    }
    case 'DequantizeLinear': {
      const x = v(0);
      const axis = a.axis ?? 1;
      const scale = perAxis(v(1), axis, x.rank);
      const zp = v(2);
      return tf.mul(zp ? tf.sub(x, perAxis(zp, axis, x.rank)) : x, scale);
    }
    case 'QuantizeLinear': {
      const x = v(0);
      const axis = a.axis ?? 1;
      const scale = perAxis(v(1), axis, x.rank);
      const zp = v(2);
      const [lo, hi] = quantRange(zp ? type(2) : T.UINT8);
      let q = tf.round(tf.div(x, scale)); // round half to even, as ONNX
      if (zp) q = tf.add(q, perAxis(zp, axis, x.rank));
      return tf.clipByValue(q, lo, hi);
    }
    case 'Constant': {
      if (!a.value) throw new Error('Constant: only the `value` attribute is supported');
      const t = tensorValues(a.value);
      return tf.tensor(t.values, t.dims, 'float32');
    }
    default:
      throw new Error(`op ${n.opType} is not supported by the tfjs backend (supported: ${SUPPORTED_OPS.join(', ')})`);
  }
}

/** Throws, naming the op, when the graph uses an op of a custom domain or one this backend does not implement. */
function checkSupported(graph) {
  for (const n of graph.node) {
    if (n.domain && n.domain !== 'ai.onnx')
      throw new Error(`op ${n.domain}.${n.opType} is not supported by the tfjs backend (custom domain)`);
    if (!SUPPORTED_OPS.includes(n.opType))
      throw new Error(
        `op ${n.opType} (node ${n.name || n.output?.[0]}) is not supported by the tfjs backend ` +
          `(supported: ${SUPPORTED_OPS.join(', ')})`,
      );
  }
}

/** `wanted` outputs → the runtime nodes they need, in graph order (computed once per set of outputs). */
function planner(runtime) {
  const plans = new Map();
  return (wanted) => {
    const key = wanted.join('\u0000');
    let plan = plans.get(key);
    if (plan) return plan;
    const needed = new Set(wanted);
    const keep = new Array(runtime.length).fill(false);
    for (let i = runtime.length - 1; i >= 0; i--) {
      const { n } = runtime[i];
      if (n.output.some((o) => needed.has(o))) {
        keep[i] = true;
        for (const name of n.input ?? []) if (name) needed.add(name);
      }
    }
    plan = runtime.filter((_, i) => keep[i]);
    plans.set(key, plan);
    return plan;
  };
}

/**
 * Loads a serialized ONNX model for the tfjs backend. Throws, naming the op, when the graph uses an op this backend
 * does not implement.
 * @param {Uint8Array} bytes
 * @param {typeof import('@tensorflow/tfjs')} [tfModule] tfjs to use; default tfjs with the wasm backend.
 */
export async function loadOnnxTfjs(bytes, tfModule) {
  const tf = tfModule ?? (await loadTfjs());
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('ONNX model has no graph');
  const opset = Number((model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 17);
  checkSupported(graph);
  /** name → { tensor, values?, type } of constants (initializers and folded nodes). */
  const constants = new Map();
  const inputNames = graph.input.map((i) => i.name).filter((name) => !graph.initializer.some((t) => t.name === name));
  const outputNames = graph.output.map((o) => o.name);
  const nodes = graph.node.map((n) => ({ n, a: attributes(n) }));
  const prepared = new Map();
  try {
    for (const t of graph.initializer) {
      const { dims, type, values } = tensorValues(t);
      constants.set(t.name, { tensor: tf.keep(tf.tensor(values, dims, 'float32')), values, type });
    }
    // Constant folding: nodes fed only by constants run once, here.
    const runtime = [];
    for (const entry of nodes) {
      const { n, a } = entry;
      const ins = n.input ?? [];
      const foldable =
        ins.every((name) => !name || constants.has(name)) && !ins.some((name) => name && inputNames.includes(name));
      if (foldable) {
        const out = tf.tidy(() =>
          evaluate(
            tf,
            n,
            a,
            (i) => (ins[i] ? constants.get(ins[i]).tensor : undefined),
            (i) => (ins[i] ? constants.get(ins[i]) : undefined),
            (i) => constants.get(ins[i])?.type,
            opset,
            undefined,
          ),
        );
        tf.keep(out);
        const type = n.opType === 'QuantizeLinear' ? (ins[2] ? constants.get(ins[2]).type : T.UINT8) : T.FLOAT;
        constants.set(n.output[0], { tensor: out, values: out.dataSync(), type });
        continue;
      }
      if (n.opType === 'Conv' && constants.has(ins[1])) {
        const w = constants.get(ins[1]).tensor;
        if (w.rank === 4) prepared.set(entry, tf.keep(tf.tidy(() => w.transpose([2, 3, 1, 0]))));
      }
      runtime.push(entry);
    }

    /** Element types of runtime tensors that matter (QuantizeLinear outputs), by name. */
    const producedType = new Map();
    for (const { n } of runtime) {
      if (n.opType === 'QuantizeLinear')
        producedType.set(n.output[0], n.input[2] ? (constants.get(n.input[2])?.type ?? T.UINT8) : T.UINT8);
    }

    const planFor = planner(runtime);

    let disposed = false;
    return {
      inputNames,
      outputNames,
      opset,
      /**
       * Runs the graph. `feeds`: input name → { data: Float32Array, dims }. Returns output name → { data, dims }.
       */
      run(feeds, wanted = outputNames) {
        if (disposed) throw new Error('model was disposed');
        for (const name of wanted)
          if (!outputNames.includes(name) && !constants.has(name)) throw new Error(`model has no output "${name}"`);
        const plan = planFor(wanted);
        const results = tf.tidy(() => {
          const values = new Map();
          for (const [name, feed] of Object.entries(feeds))
            values.set(name, tf.tensor(feed.data, feed.dims, 'float32'));
          const get = (name) => {
            const t = values.get(name) ?? constants.get(name)?.tensor;
            if (!t) throw new Error(`tensor "${name}" is not available (missing input?)`);
            return t;
          };
          for (const entry of plan) {
            const { n, a } = entry;
            const ins = n.input ?? [];
            let out;
            try {
              out = evaluate(
                tf,
                n,
                a,
                (i) => (ins[i] ? get(ins[i]) : undefined),
                (i) => (ins[i] ? constants.get(ins[i]) : undefined),
                (i) => (ins[i] ? (constants.get(ins[i])?.type ?? producedType.get(ins[i]) ?? T.FLOAT) : undefined),
                opset,
                prepared.get(entry),
              );
            } catch (error) {
              throw new Error(
                `node ${n.name || n.output[0]} ` +
                  `(${n.opType}): ${error instanceof Error ? error.message : String(error)}`,
              );
            }
            values.set(n.output[0], out);
          }
          return wanted.map((name) => get(name).clone());
        });
        const out = {};
        wanted.forEach((name, i) => {
          const t = results[i];
          out[name] = { data: new Float32Array(t.dataSync()), dims: [...t.shape] };
          t.dispose();
        });
        return out;
      },
      dispose() {
        if (disposed) return;
        disposed = true;
        for (const c of constants.values()) c.tensor.dispose();
        for (const t of prepared.values()) t.dispose();
        constants.clear();
        prepared.clear();
      },
    };
  } catch (error) {
    for (const c of constants.values()) c.tensor.dispose();
    for (const t of prepared.values()) t.dispose();
    throw error;
  }
}
