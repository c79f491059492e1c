import type { ReferenceProfile } from '../operators/drift/reference-profile.ts';

/**
 * What every trainable model kind delivers, so the registry, the `driftline models` commands and the infer
 * operator treat the postings classifier, the frame CNN and a user's own ONNX model alike.
 *
 * ONNX contract: one float32 input named `input` ([batch, …features]) and one output named `probabilities`
 * ([batch, classes], rows summing to 1). Model metadata carries `driftline.preprocessing` (how raw records become
 * the input tensor) and `driftline.classes` (a JSON array of class names).
 */
export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'probabilities';

export type Precision = 'fp32' | 'int8' | 'fp16';

/** Held-out data in model-input form: what eval and parity checks run on. */
export interface HeldOut {
  /** Row-major inputs, `shape[0]` rows. */
  inputs: Float32Array;
  shape: number[];
  labels: Int32Array;
}

export interface TrainedModel {
  /** The fp32 model, serialized ONNX. */
  onnx: Uint8Array;
  classes: string[];
  /** e.g. accuracy, precision, recall, f1, ece on the held-out set. */
  metrics: Record<string, number>;
  /** sha256 of the training data as read (file contents, sorted), and of the training config. */
  datasetHash: string;
  configHash: string;
  heldOut: HeldOut;
  /** A few hundred training inputs, for static quantization calibration. */
  calibration: HeldOut;
  /** Probabilities of the trained framework model on `heldOut` (for the ONNX-vs-framework parity check). */
  frameworkProbabilities: Float32Array;
  /**
   * What the model's data looked like (held-out rows with the model's predictions), for drift-window; kept beside the
   * artifact.
   */
  referenceProfile?: ReferenceProfile;
}

export interface ModelKind<Config = Record<string, unknown>> {
  id: string;
  description: string;
  preprocessing: string;
  defaultConfig: Config;
  /** Deterministic given config.seed. */
  train(config: Config, dataDir: string): Promise<TrainedModel>;
  /** An INT8 variant of an fp32 model of this kind. */
  quantizeInt8(fp32: Uint8Array, calibration: HeldOut): Uint8Array;
  /** An fp16 variant, when this kind has one ONNX Runtime's CPU provider runs. */
  toFloat16?(fp32: Uint8Array): Uint8Array;
}
