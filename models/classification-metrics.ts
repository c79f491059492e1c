/** Metrics over row-major class probabilities ([rows, classes]): shared by every model kind and the CLI. */

/** Index of the most probable class of `row` (the first one on ties). */
export function argmax(probabilities: Float32Array, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++)
    if (probabilities[row * classes + c]! > probabilities[row * classes + best]!) best = c;
  return best;
}

/** Share of rows whose most probable class is the label. */
export function accuracy(probabilities: Float32Array, labels: Int32Array, classes: number): number {
  let correct = 0;
  for (let row = 0; row < labels.length; row++) if (argmax(probabilities, row, classes) === labels[row]) correct += 1;
  return labels.length === 0 ? 0 : correct / labels.length;
}

/**
 * Expected calibration error on the top-1 confidence over equal-width bins: how far the model's confidence is from
 * its accuracy, weighted by how many predictions fall in each bin. Pseudo-labelling trusts confidence, so this matters.
 */
export function expectedCalibrationError(
  probabilities: Float32Array,
  labels: Int32Array,
  classes: number,
  bins = 10,
): number {
  const count = new Float64Array(bins);
  const confidence = new Float64Array(bins);
  const correct = new Float64Array(bins);
  const n = labels.length;
  for (let row = 0; row < n; row++) {
    const best = argmax(probabilities, row, classes);
    const top = probabilities[row * classes + best]!;
    const b = Math.min(bins - 1, Math.floor(top * bins));
    count[b]! += 1;
    confidence[b]! += top;
    if (best === labels[row]) correct[b]! += 1;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++)
    if (count[b]! > 0) ece += (count[b]! / n) * Math.abs(correct[b]! / count[b]! - confidence[b]! / count[b]!);
  return ece;
}
