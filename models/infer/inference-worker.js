// One ONNX Runtime thread of the inference pool. Plain JavaScript on purpose: worker threads do not inherit the tsx
// loader when driftline starts through its register API, so this file must run as it is.
//
// Messages (each answered with { id, ... } or { id, error }):
//   { type: 'load', key, bytes, inputName, outputName, intraOpNumThreads, backend } → { inputNames, outputNames }
//     backend 'onnxruntime' (default) or 'tfjs': the graph run with tfjs ops on the wasm backend (onnx-tfjs.js); tfjs
//     is only imported by a thread once a tfjs model is loaded in it.
//   { type: 'run', key, data: ArrayBuffer (float32, transferred), dims, checkFinite }
//       → { data: ArrayBuffer (transferred), dims, ms, invalid, input: the request's buffer, transferred back for
//       reuse }
// With checkFinite, `run` also finds the rows holding NaN or ±Infinity (infer asks for it only for a batch it saw a
// bad value in while filling it): they are left out of the batch the model sees and reported in `invalid` as
// { row, index, value }; the output then has one row per remaining input row, in order.
//   { type: 'unload', key }
// `run` blocks this thread while the session computes; the main thread's event loop stays free.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

// Lower this thread's CPU priority (on Linux, setpriority with pid 0 applies to the calling thread only), so that on
// a busy machine the event-loop thread (Kafka heartbeats, I/O) wins the CPU over batch inference.
if (workerData?.nice) {
  try {
    setPriority(workerData.nice);
  } catch {
    // not permitted or not supported: run at normal priority
  }
}

/**
 * key → { session, inputName, outputName } (session: an ort.InferenceSession, or for tfjs an adapter with run/release)
 */
const sessions = new Map();

/** An onnx-tfjs model behind the slice of the ort.InferenceSession API this file uses. */
async function tfjsSession(bytes) {
  const { loadOnnxTfjs } = await import('./onnx-tfjs.js');
  const model = await loadOnnxTfjs(bytes);
  return {
    backend: 'tfjs',
    inputNames: model.inputNames,
    outputNames: model.outputNames,
    async run(feeds, wanted) {
      const input = {};
      for (const [name, t] of Object.entries(feeds)) input[name] = { data: t.data, dims: t.dims };
      const out = model.run(input, wanted);
      const result = {};
      for (const [name, t] of Object.entries(out)) result[name] = { type: 'float32', data: t.data, dims: t.dims };
      return result;
    },
    async release() {
      model.dispose();
    },
  };
}

async function load(request) {
  if (request.backend === 'tfjs') return register(request, await tfjsSession(request.bytes));
  if (request.backend !== undefined && request.backend !== 'onnxruntime')
    throw new Error(`unknown inference backend "${request.backend}" (onnxruntime or tfjs)`);
  const session = await ort.InferenceSession.create(request.bytes, {
    intraOpNumThreads: request.intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Weight-only INT8: fold DequantizeLinear(initializer) into fp32 weights once (models/postings/quantize.ts).
    ...(request.foldDequantize ? { extra: { session: { disable_quant_qdq: '1' } } } : {}),
  });
  return register(request, session);
}

async function register(request, session) {
  const { inputNames, outputNames } = session;
  if (!inputNames.includes(request.inputName)) {
    await session.release();
    throw new Error(
      `model ${request.key} has no input named "${request.inputName}" (inputs: ${inputNames.join(', ')})`,
    );
  }
  if (!outputNames.includes(request.outputName)) {
    await session.release();
    throw new Error(
      `model ${request.key} has no output named "${request.outputName}" (outputs: ${outputNames.join(', ')})`,
    );
  }
  const previous = sessions.get(request.key);
  sessions.set(request.key, { session, inputName: request.inputName, outputName: request.outputName });
  if (previous) await previous.session.release();
  return { inputNames: [...inputNames], outputNames: [...outputNames] };
}

/** Rows with a NaN or ±Infinity, and the batch compacted in place without them. */
function dropNonFinite(values, rows, width) {
  // Fast path: 0·v is 0 for every finite v and NaN otherwise, so one sum tells whether any value is bad.
  let a = 0,
    b = 0,
    c = 0,
    d = 0;
  const n = values.length;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    a += values[i] * 0;
    b += values[i + 1] * 0;
    c += values[i + 2] * 0;
    d += values[i + 3] * 0;
  }
  for (; i < n; i++) a += values[i] * 0;
  if (a + b + c + d === 0) return { invalid: [], kept: rows };
  const invalid = [];
  let kept = 0;
  for (let r = 0; r < rows; r++) {
    const start = r * width;
    let bad = -1;
    for (let k = 0; k < width; k++) {
      const v = values[start + k];
      if (v - v !== 0) {
        bad = k;
        break;
      }
    }
    if (bad >= 0) {
      const v = values[start + bad];
      invalid.push({ row: r, index: bad, value: Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity' });
    } else {
      if (kept !== r) values.copyWithin(kept * width, start, start + width);
      kept++;
    }
  }
  return { invalid, kept };
}

async function run(request) {
  const entry = sessions.get(request.key);
  if (!entry) throw new Error(`model ${request.key} is not loaded in this inference thread`);
  const t0 = performance.now();
  const rows = request.dims[0];
  const width = request.dims.slice(1).reduce((p, q) => p * q, 1);
  const values = new Float32Array(request.data, 0, rows * width);
  const { invalid, kept } =
    request.checkFinite === false ? { invalid: [], kept: rows } : dropNonFinite(values, rows, width);
  const checkMs = performance.now() - t0;
  if (kept === 0) {
    const empty = new Float32Array(0);
    return {
      result: { data: empty.buffer, dims: [0, 0], ms: performance.now() - t0, checkMs, invalid, input: request.data },
      transfer: [empty.buffer, request.data],
    };
  }
  const input = new ort.Tensor('float32', kept === rows ? values : values.subarray(0, kept * width), [
    kept,
    ...request.dims.slice(1),
  ]);
  const outputs = await entry.session.run({ [entry.inputName]: input }, [entry.outputName]);
  const output = outputs[entry.outputName];
  if (output.type !== 'float32')
    throw new Error(`model ${request.key}: output "${entry.outputName}" is ${output.type}, float32 expected`);
  const data = new Float32Array(output.data); // own copy: the runtime's buffer is not ours to transfer
  const ms = performance.now() - t0;
  input.dispose?.();
  output.dispose?.();
  return {
    result: { data: data.buffer, dims: [...output.dims].map(Number), ms, checkMs, invalid, input: request.data },
    transfer: [data.buffer, request.data],
  };
}

parentPort.on('message', async (request) => {
  try {
    if (request.type === 'run') {
      const { result, transfer } = await run(request);
      parentPort.postMessage({ id: request.id, ...result }, transfer);
      return;
    }
    let result = {};
    if (request.type === 'load') result = await load(request);
    else if (request.type === 'unload') {
      const entry = sessions.get(request.key);
      sessions.delete(request.key);
      if (entry) await entry.session.release();
    } else throw new Error(`unknown request ${request.type}`);
    parentPort.postMessage({ id: request.id, ...result });
  } catch (error) {
    parentPort.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
