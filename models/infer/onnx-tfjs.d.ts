/** Types of onnx-tfjs.js (plain JavaScript: it runs inside the inference threads, which lack the tsx loader). */
export interface TfjsFeed {
  data: Float32Array;
  dims: number[];
}

export interface OnnxTfjsModel {
  /** Graph inputs that are not initializers. */
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly opset: number;
  /** Runs the graph (only the nodes `wanted` depends on) in float32; outputs default to every graph output. */
  run(feeds: Record<string, TfjsFeed>, wanted?: string[]): Record<string, TfjsFeed>;
  /** Releases the weights' tensors. */
  dispose(): void;
}

export const SUPPORTED_OPS: string[];

/** tfjs with the wasm backend active (imported and initialized once per thread). */
export function loadTfjs(): Promise<typeof import('@tensorflow/tfjs')>;

/** Loads a serialized ONNX model; throws naming the op when the graph uses one this backend does not implement. */
export function loadOnnxTfjs(bytes: Uint8Array, tf?: typeof import('@tensorflow/tfjs')): Promise<OnnxTfjsModel>;

/** A TensorProto's values as float32 with its dims and ONNX element type. */
export function tensorValues(t: unknown): { dims: number[]; type: number; values: Float32Array };
