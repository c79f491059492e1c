/**
 * NAB's Windowed Gaussian baseline detector, reimplemented: a record's anomaly score is 1 − the Gaussian tail
 * probability of its value (mirrored above the mean) under the mean and population standard deviation of the values
 * before it: all of them up to 6,400, then a window of 6,400 that slides 100 values at a time (0 for a series' first
 * record; a constant window gets standard deviation 1e-6). These are the settings behind NAB's published
 * `results/windowedGaussian/` raw scores, which this reproduces to 1e-6 (nab-reference.test.ts).
 */
import { normalTail } from './normal-tail.ts';

export const WINDOWED_GAUSSIAN_SIZE = 6400;
export const WINDOWED_GAUSSIAN_STEP = 100;

export class WindowedGaussian {
  private readonly window: Float64Array;
  private filled = 0;
  private next = 0;
  private mean = 0;
  private std = 1;
  private sinceFull = 0;

  constructor(
    private readonly size = WINDOWED_GAUSSIAN_SIZE,
    private readonly step = WINDOWED_GAUSSIAN_STEP,
  ) {
    this.window = new Float64Array(size);
  }

  /** The anomaly score of `value` given the values before it; then `value` joins the window. */
  score(value: number): number {
    const score = this.filled > 0 ? 1 - normalTail(value, this.mean, this.std) : 0;
    this.window[this.next] = value;
    this.next = (this.next + 1) % this.size;
    this.filled = Math.min(this.filled + 1, this.size);
    this.sinceFull = this.filled === this.size ? this.sinceFull + 1 : 0;
    // Growing: refit on every value. Full: NAB slides the window `step` values at a time, refitting only then.
    if (this.filled < this.size || this.sinceFull % this.step === 1 % this.step) this.refit();
    return score;
  }

  /** Two passes over the window (as numpy does) rather than running sums, whose rounding would drift over a series. */
  private refit(): void {
    let sum = 0;
    for (let i = 0; i < this.filled; i++) sum += this.window[i]!;
    this.mean = sum / this.filled;
    let squares = 0;
    for (let i = 0; i < this.filled; i++) squares += (this.window[i]! - this.mean) ** 2;
    this.std = Math.sqrt(squares / this.filled) || 1e-6;
  }
}

/** Scores a whole series, record by record (no look-ahead). */
export function windowedGaussianScores(values: readonly number[]): number[] {
  const detector = new WindowedGaussian();
  return values.map((v) => detector.score(v));
}
