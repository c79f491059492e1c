/**
 * One series' online anomaly score in [0, 1], record by record, from the value alone (no look-ahead):
 *
 *   robust z      |value − median| / (1.4826 · MAD) over the previous `window` values: how far out the value is,
 *                 robust to the spikes it is looking for (a mean and standard deviation would absorb them);
 *                 the scale is floored at 1 % of the window's range so quantised series (MAD 0) do not explode;
 *                 with `differences`, also the robust z of the step from the previous value (a sudden jump
 *                 inside the usual range), the raw score being the larger of the two
 *   likelihood    Numenta's anomaly likelihood of the recent raw scores (anomaly-likelihood.ts), log-scaled:
 *                 calibrates the z per series, so one threshold fits noisy and quiet series alike
 *   novelty       a value beyond anything the series has shown (its min–max so far, widened by `noveltyMargin`
 *                 of its range) scores `noveltyScore`: NAB's anomalies are often new extremes
 *   change        ADWIN on the clipped robust z: a sustained shift in level scores `changeScore`, counted only while
 *                 the log-scaled likelihood is at least `changeGate` (a daily cycle makes ADWIN fire every day;
 *                 the likelihood has learned the cycle and stays low)
 *
 * The score is the largest signal. After a record reaches `alertLevel`, the next `quietRecords` scores are damped
 * (× `quietFactor`): one anomaly, one alert, instead of a burst of them (NAB counts only a window's first detection,
 * and every later one outside it is a false positive). The first `warmUp` records score 0.
 */
import { Adwin } from '../drift/detectors/adwin.ts';
import { AnomalyLikelihood, LIKELIHOOD_DEFAULTS, type LikelihoodOptions, logScale } from './anomaly-likelihood.ts';
import { normalTail } from './normal-tail.ts';
import { RobustWindow } from './robust-window.ts';

export interface DetectorOptions {
  window: number;
  /** Also the robust z of the change from the previous value (raw = the larger of the two). */
  differences: boolean;
  warmUp: number;
  likelihood: LikelihoodOptions | false;
  novelty: boolean;
  noveltyMargin: number;
  noveltyScore: number;
  change: boolean;
  changeScore: number;
  changeDelta: number;
  /** A change point counts only while the log-scaled likelihood is at least this (0: always). */
  changeGate: number;
  alertLevel: number;
  quietRecords: number;
  quietFactor: number;
}

/** Tuned on NAB (bench/nab-events.bench.ts; the ablation is in operators/anomaly/README.md). */
export const DETECTOR_DEFAULTS: DetectorOptions = {
  window: 200,
  differences: true,
  warmUp: 30,
  likelihood: LIKELIHOOD_DEFAULTS,
  novelty: true,
  noveltyMargin: 0.02,
  noveltyScore: 0.45,
  change: true,
  changeScore: 0.55,
  changeDelta: 0.002,
  changeGate: 0.1,
  alertLevel: 0.5,
  quietRecords: 200,
  quietFactor: 0,
};

/** What each signal said about one record, beside the combined score. */
export interface AnomalySignals {
  score: number;
  zScore: number;
  likelihood: number;
  novelty: boolean;
  change: boolean;
}

export class SeriesAnomalyDetector {
  private readonly recent: RobustWindow;
  private readonly steps: RobustWindow;
  private previous = Number.NaN;
  private readonly likelihood: AnomalyLikelihood | undefined;
  private readonly adwin: Adwin | undefined;
  private seen = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private quietUntil = -1;

  constructor(private readonly options: DetectorOptions = DETECTOR_DEFAULTS) {
    this.recent = new RobustWindow(options.window);
    this.steps = new RobustWindow(options.window);
    this.likelihood = options.likelihood ? new AnomalyLikelihood(options.likelihood) : undefined;
    this.adwin = options.change ? new Adwin({ delta: options.changeDelta }) : undefined;
  }

  /** Scores `value` against the series' past, then adds it to that past. */
  score(value: number): AnomalySignals {
    const o = this.options;
    const z = this.recent.count >= 3 ? this.robustZ(value) : 0;
    const step = o.differences && this.steps.count >= 3 ? zOf(this.steps, value - this.previous) : 0;
    // |z| → [0, 1]: 1 − P(|Z| ≥ |z|), uniform for a series behaving as usual.
    const raw = 1 - 2 * normalTail(Math.max(Math.abs(z), Math.abs(step)), 0, 1);
    if (Number.isFinite(this.previous)) this.steps.push(value - this.previous);
    this.previous = value;
    const likelihood = this.likelihood ? this.likelihood.update(Math.min(1, Math.max(0, raw))) : raw;
    const calibrated = this.likelihood ? logScale(likelihood) : raw;
    const range = this.max - this.min;
    const beyond = value > this.max + o.noveltyMargin * range || value < this.min - o.noveltyMargin * range;
    const novelty = o.novelty && this.seen >= o.warmUp && beyond;
    const shifted = this.adwin ? this.adwin.update(Math.min(Math.abs(z), 6) / 6) : false;
    const change = shifted && this.seen >= o.warmUp && calibrated >= o.changeGate;
    this.recent.push(value);
    this.min = Math.min(this.min, value);
    this.max = Math.max(this.max, value);
    let score =
      this.seen < o.warmUp ? 0 : Math.max(calibrated, novelty ? o.noveltyScore : 0, change ? o.changeScore : 0);
    if (this.seen <= this.quietUntil) score *= o.quietFactor;
    else if (score >= o.alertLevel) this.quietUntil = this.seen + o.quietRecords;
    this.seen++;
    return { score, zScore: z, likelihood, novelty, change };
  }

  private robustZ(value: number): number {
    return zOf(this.recent, value);
  }
}

/** Robust z of `value` against a window; the scale is floored at 1 % of the window's range. */
function zOf(window: RobustWindow, value: number): number {
  const [lo, hi] = window.range();
  const median = window.median();
  const scale = Math.max(1.4826 * window.mad(), 0.01 * (hi - lo), 1e-12 * Math.abs(median));
  if (scale > 0) return (value - median) / scale;
  return value === median ? 0 : Math.sign(value - median) * 1e6; // a window of zeros: any other value is far out
}
