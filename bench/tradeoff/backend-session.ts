/**
 * One loaded model on one backend, behind a single `run(rows)` call the scenarios time:
 *   - `onnxruntime`: onnxruntime-node's CPU provider with `threads` intra-op threads and the session options
 *     `models eval` uses (INT8 weights folded to fp32 at load);
 *   - `tfjs-wasm`: the same ONNX graph executed with tfjs ops on the wasm backend (models/infer/onnx-tfjs.js, the
 *     `infer` operator's second backend). tfjs-wasm runs single-threaded in Node (no wasm threads there), so it
 *     only has threads = 1.
 */
import * as ort from 'onnxruntime-node';
import { evalSessionOptions } from '../../models/held-out-prediction.ts';
import { loadOnnxTfjs } from '../../models/infer/onnx-tfjs.js';
import { INPUT_NAME, OUTPUT_NAME, type Precision } from '../../models/model-contract.ts';
import { createSession } from '../../models/postings/parity.ts';

export type Backend = 'onnxruntime' | 'tfjs-wasm';
export const BACKENDS: Backend[] = ['onnxruntime', 'tfjs-wasm'];

export interface BenchSession {
  /** Probabilities ([rows, classes], row-major) for `data` holding `rows` items of the model's item shape. */
  run(data: Float32Array, rows: number): Promise<Float32Array>;
  release(): Promise<void>;
}

export const threadCountsFor = (backend: Backend, wanted: number[]) => (backend === 'tfjs-wasm' ? [1] : wanted);

export async function openBenchSession(
  bytes: Uint8Array,
  options: { backend: Backend; threads: number; precision: Precision; itemShape: number[] },
): Promise<BenchSession> {
  const dims = (rows: number) => [rows, ...options.itemShape];
  if (options.backend === 'tfjs-wasm') {
    const model = await loadOnnxTfjs(bytes);
    return {
      run: async (data, rows) =>
        model.run({ [INPUT_NAME]: { data, dims: dims(rows) } }, [OUTPUT_NAME])[OUTPUT_NAME]!.data,
      release: async () => model.dispose(),
    };
  }
  const session = await createSession(bytes, { ...evalSessionOptions(options), intraOpNumThreads: options.threads });
  return {
    async run(data, rows) {
      const out = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', data, dims(rows)) }, [OUTPUT_NAME]);
      return out[OUTPUT_NAME]!.data as Float32Array;
    },
    release: () => session.release(),
  };
}
