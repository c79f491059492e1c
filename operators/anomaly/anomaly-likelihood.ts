/**
 * Numenta's anomaly likelihood, online: how improbable the recent average of a series' raw anomaly scores is, given
 * the distribution of those averages over the long run. A raw score that is always noisy (a jittery series) gets a
 * low likelihood; the same raw score on a series that is usually quiet gets a high one, so one threshold fits
 * every series.
 *
 *   average     mean of the last `shortWindow` raw scores
 *   long run    mean and standard deviation of the averages over the last `history` records (re-estimated every
 *               `reestimate` records; the standard deviation is floored so a perfectly quiet past is not infinitely
 *               surprised by the faintest blip)
 *   likelihood  1 − Q((average − mean) / std): only averages ABOVE the long-run mean are surprising
 *   log score   log(1 − likelihood) rescaled to [0, 1] (1 at likelihood 1 − 1e-10), which spreads the interesting
 *               tail: likelihood 0.999 → 0.30, 0.99999 → 0.50
 *
 * 0.5 likelihood (0.03 log score) during the first `learning` records.
 */
import { normalTail } from './normal-tail.ts';

export interface LikelihoodOptions {
  shortWindow: number;
  history: number;
  learning: number;
  reestimate: number;
  minStd: number;
}

export const LIKELIHOOD_DEFAULTS: LikelihoodOptions = {
  shortWindow: 20,
  history: 2000,
  learning: 150,
  reestimate: 50,
  minStd: 0.02,
};

const LOG_FLOOR = Math.log(1e-10);

/** log(1 − likelihood) on [0, 1]. */
export const logScale = (likelihood: number): number => Math.min(1, Math.log(1.0000000001 - likelihood) / LOG_FLOOR);

export class AnomalyLikelihood {
  private readonly recent: Float64Array;
  private readonly averages: Float64Array;
  private seen = 0;
  private recentSum = 0;
  private mean = 0;
  private std = 1;

  constructor(private readonly options: LikelihoodOptions = LIKELIHOOD_DEFAULTS) {
    this.recent = new Float64Array(options.shortWindow);
    this.averages = new Float64Array(options.history);
  }

  /** Adds a raw score in [0, 1] and returns the likelihood of the recent average. */
  update(raw: number): number {
    const { shortWindow, history, learning, reestimate } = this.options;
    const slot = this.seen % shortWindow;
    this.recentSum += raw - (this.seen >= shortWindow ? this.recent[slot]! : 0);
    this.recent[slot] = raw;
    const average = this.recentSum / Math.min(this.seen + 1, shortWindow);
    // The distribution is the past's: estimate it before this average joins it.
    if (this.seen >= learning && (this.seen - learning) % reestimate === 0) this.estimate();
    this.averages[this.seen % history] = average;
    this.seen++;
    if (this.seen <= learning) return 0.5;
    return 1 - (average > this.mean ? normalTail(average, this.mean, this.std) : 0.5);
  }

  private estimate(): void {
    const n = Math.min(this.seen, this.options.history);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += this.averages[i]!;
    this.mean = sum / n;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (this.averages[i]! - this.mean) ** 2;
    this.std = Math.max(Math.sqrt(squares / n), this.options.minStd);
  }
}
