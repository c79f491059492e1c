/**
 * The postings classifier as a driftline ModelKind: hashed text features (features.ts) → tfjs MLP (train.ts) →
 * ONNX (export.ts), with INT8 weight quantization (quantize.ts).
 */
import { buildReferenceProfile } from '../../operators/drift/reference-profile.ts';
import { argmax } from '../classification-metrics.ts';
import type { HeldOut, ModelKind, TrainedModel } from '../model-contract.ts';
import { postingModelFeatures } from './drift-features.ts';
import { exportMlpToOnnx } from './export.ts';
import { FEATURE_DIM, PREPROCESSING } from './features.ts';
import { convertToFloat16, quantizeWeightsInt8 } from './quantize.ts';
import {
  CLASSES,
  DEFAULT_POSTINGS_CONFIG,
  type PostingsModelConfig,
  type PostingsTrainResult,
  trainPostingsModel,
} from './train.ts';

export type { PostingsModelConfig } from './train.ts';

export const CALIBRATION_ROWS = 256;

/** The contract's TrainedModel from a training result (also used by tests that need the tfjs model as well). */
export function toTrainedModel(r: PostingsTrainResult): TrainedModel {
  const onnx = exportMlpToOnnx(r.weights, { datasetHash: r.datasetHash, configHash: r.configHash });
  const heldOutRows = r.heldOut.labels.length;
  const calRows = Math.min(CALIBRATION_ROWS, r.train.labels.length);
  const heldOut: HeldOut = { inputs: r.heldOut.inputs, shape: [heldOutRows, FEATURE_DIM], labels: r.heldOut.labels };
  // the training rows are already in seeded-shuffled order per class: take an even spread, not the first class only
  const step = r.train.labels.length / calRows;
  const calIdx = Array.from({ length: calRows }, (_, i) => Math.floor(i * step));
  const calInputs = new Float32Array(calRows * FEATURE_DIM);
  calIdx.forEach((src, row) => {
    calInputs.set(r.train.inputs.subarray(src * FEATURE_DIM, (src + 1) * FEATURE_DIM), row * FEATURE_DIM);
  });
  const calibration: HeldOut = {
    inputs: calInputs,
    shape: [calRows, FEATURE_DIM],
    labels: Int32Array.from(calIdx, (i) => r.train.labels[i]!),
  };
  const { n: _n, ...metrics } = r.metrics;
  // The reference for drift: rows the model never trained on, with its predictions (training rows would show
  // over-confident outputs and make every live window look drifted on confidence).
  const scored = r.heldOutTexts.map((t, i) => {
    const label = argmax(r.heldOutProbabilities, i, CLASSES.length);
    return { ...t, label, confidence: r.heldOutProbabilities[i * CLASSES.length + label]! };
  });
  const referenceProfile = buildReferenceProfile(scored, postingModelFeatures, {
    createdFrom: `held-out rows of dataset ${r.datasetHash.slice(0, 12)}`,
  });
  return {
    onnx,
    classes: [...CLASSES],
    metrics: { ...metrics, heldOutRows, trainRows: r.train.labels.length, trainSeconds: r.trainSeconds },
    datasetHash: r.datasetHash,
    configHash: r.configHash,
    heldOut,
    calibration,
    frameworkProbabilities: r.heldOutProbabilities,
    referenceProfile,
  };
}

export const postingsClassifier: ModelKind<PostingsModelConfig> = {
  id: 'postings-classifier',
  description:
    'Job postings: software engineering (0) vs data science (1); hashed word/char n-grams → MLP (tfjs), Glassdoor 2020',
  preprocessing: PREPROCESSING,
  defaultConfig: DEFAULT_POSTINGS_CONFIG,
  async train(config, dataDir) {
    const r = await trainPostingsModel(config, dataDir);
    const trained = toTrainedModel(r);
    r.model.dispose();
    return trained;
  },
  quantizeInt8(fp32, _calibration) {
    return quantizeWeightsInt8(fp32);
  },
  /**
   * The fp16 graph (FLOAT16 weights, Cast in/out) loads and runs on onnxruntime-node 1.30's CPU provider, and passes
   * parity — but the CPU provider has no fp16 MatMul/Add/Relu/Softmax kernels: its InsertCastTransformer wraps them
   * in Casts back to float32 (seen in the optimized graph: `InsertedPrecisionFreeCast_*`, weights cast once and
   * folded into FusedGemm). So on CPU this variant halves the file (fp16-rounded weights) but computes in fp32 and is
   * no faster; real fp16 compute needs a GPU execution provider.
   */
  toFloat16(fp32) {
    return convertToFloat16(fp32);
  },
};
