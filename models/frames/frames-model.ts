/**
 * The NEU-DET frame classifier as a driftline model kind: a small CNN trained (deterministically, by seed) on
 * frames preprocessed exactly as the stream does ('frames-gray-v1' at `size`), exported to ONNX (NCHW input
 * [batch,1,size,size] -> probabilities [batch,6]), with calibrated static QDQ INT8 and fp16 variants.
 */
import { buildReferenceProfile } from '../../operators/drift/reference-profile.ts';
import { configHash } from '../registry/lineage.ts';
import type * as tf from '@tensorflow/tfjs';
import type { HeldOut, ModelKind, TrainedModel } from '../model-contract.ts';
import { rng, shuffleInPlace } from '../seeded-random.ts';
import { FRAMES_PREPROCESSING, loadNeuDet, type FrameDataset } from './dataset.ts';
import { DEFAULT_CNN_CONFIG, evaluateProbabilities, predictProbabilities, trainCnn, type CnnConfig } from './train.ts';
import { exportFramesOnnx, weightsFromModel } from './export.ts';
import { framesToFloat16, quantizeFramesInt8 } from './quantize.ts';
import { frameModelFeatures, scoredFrames } from './drift-features.ts';

export interface FramesModelConfig extends CnnConfig {
  heldOutFraction: number;
  calibrationRows: number;
}

export const DEFAULT_FRAMES_CONFIG: FramesModelConfig = {
  ...DEFAULT_CNN_CONFIG,
  heldOutFraction: 0.2,
  calibrationRows: 256,
};

export interface FramesTraining {
  trained: TrainedModel;
  /** The trained tfjs model (NHWC), for serving through tfjs and for benchmarks. */
  model: tf.Sequential;
  dataset: FrameDataset;
  trainSeconds: number;
  losses: number[];
}

/** Metrics as a flat record: accuracy, ece, macroF1 and accuracy_<class> per class. */
export function flatMetrics(probs: Float32Array, labels: Int32Array, classes: string[]): Record<string, number> {
  const m = evaluateProbabilities(probs, labels, classes);
  const out: Record<string, number> = { accuracy: m.accuracy, ece: m.ece, macroF1: m.macroF1 };
  for (const [c, v] of Object.entries(m.perClassAccuracy)) out[`accuracy_${c}`] = v;
  return out;
}

export async function trainFrames(config: FramesModelConfig, dataDir: string): Promise<FramesTraining> {
  const dataset = await loadNeuDet(dataDir, {
    size: config.size,
    seed: config.seed,
    heldOutFraction: config.heldOutFraction,
  });
  const { model, losses, trainSeconds } = await trainCnn(dataset, config);
  const { size, classes } = dataset;
  const px = size * size;
  const frameworkProbabilities = predictProbabilities(model, dataset.heldOut.inputs, size);
  const metrics = flatMetrics(frameworkProbabilities, dataset.heldOut.labels, classes);
  // The reference for drift: frames the model never trained on, with its predictions, so live windows compare with
  // what the model is known to handle (training frames would make its predictions look better than they are).
  const referenceProfile = buildReferenceProfile(
    scoredFrames(dataset.heldOut.inputs, size, frameworkProbabilities, classes),
    frameModelFeatures,
    {
      createdFrom: `held-out frames of dataset ${dataset.datasetHash.slice(0, 12)}`,
    },
  );
  const cHash = configHash(config);
  const onnx = exportFramesOnnx(weightsFromModel(model, size, classes), {
    'driftline.dataset_hash': dataset.datasetHash,
    'driftline.config_hash': cHash,
  });
  // Calibration: a seeded sample of training rows. With one channel NHWC and NCHW rows are the same bytes.
  const pick = shuffleInPlace([...dataset.train.labels.keys()], rng(config.seed + 17)).slice(
    0,
    Math.min(config.calibrationRows, dataset.train.labels.length),
  );
  const calInputs = new Float32Array(pick.length * px);
  pick.forEach((src, row) => {
    calInputs.set(dataset.train.inputs.subarray(src * px, (src + 1) * px), row * px);
  });
  const heldOut: HeldOut = {
    inputs: dataset.heldOut.inputs,
    shape: [dataset.heldOut.labels.length, 1, size, size],
    labels: dataset.heldOut.labels,
  };
  const calibration: HeldOut = {
    inputs: calInputs,
    shape: [pick.length, 1, size, size],
    labels: Int32Array.from(pick, (i) => dataset.train.labels[i]!),
  };
  return {
    trained: {
      onnx,
      classes,
      metrics,
      datasetHash: dataset.datasetHash,
      configHash: cHash,
      heldOut,
      calibration,
      frameworkProbabilities,
      referenceProfile,
    },
    model,
    dataset,
    trainSeconds,
    losses,
  };
}

export const framesCnn: ModelKind<FramesModelConfig> = {
  id: 'frames-cnn',
  description: 'NEU-DET steel-surface defect classifier: 2-conv CNN on grey frames (6 classes)',
  preprocessing: FRAMES_PREPROCESSING,
  defaultConfig: DEFAULT_FRAMES_CONFIG,
  async train(config, dataDir) {
    return (await trainFrames(config, dataDir)).trained;
  },
  quantizeInt8: quantizeFramesInt8,
  toFloat16: framesToFloat16,
};
