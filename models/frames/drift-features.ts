/**
 * What is monitored for drift around the frame CNN: the image statistics the normalizer measures (brightness,
 * contrast, sharpness: the camera's lighting and focus) and the class the model predicts. The reference profile
 * (built at training from held-out frames) and the `frames` pipeline read frames through these same functions.
 */
import { argmax } from '../classification-metrics.ts';
import type { DriftFeatures } from '../../operators/drift/drift-features.ts';
import { type FrameStats, frameStats } from '../../operators/normalize/frame.ts';

/** A frame's statistics with the model's prediction for it. */
export interface ScoredFrame extends FrameStats {
  /** Name of the class the model predicted. */
  predictedClass: string;
}

export const frameModelFeatures: DriftFeatures<ScoredFrame> = {
  numeric: { brightness: (f) => f.brightness, contrast: (f) => f.contrast, sharpness: (f) => f.sharpness },
  categorical: { predicted_class: (f) => f.predictedClass },
};

/**
 * Model-input rows (grey, size×size, [0,1], one after another) with their class probabilities, as scored frames. The
 * statistics are those `normalizeFrame` reports for the same tensor: it measures the resized grey image too.
 */
export function scoredFrames(
  inputs: Float32Array,
  size: number,
  probabilities: Float32Array,
  classes: string[],
): ScoredFrame[] {
  const px = size * size;
  const rows = inputs.length / px;
  return Array.from({ length: rows }, (_, i) => ({
    ...frameStats(inputs.subarray(i * px, (i + 1) * px), size, size),
    predictedClass: classes[argmax(probabilities, i, classes.length)]!,
  }));
}
