/**
 * Page-Hinkley test: a port of `river.drift.PageHinkley` (river 0.26), with the same defaults and operation order so
 * that detections fall on the same elements as river's.
 *
 * It accumulates the deviations of each value from the running mean (minus/plus a tolerance `delta`, with
 * forgetting factor `alpha`) and signals a change when the cumulative sum has risen (mode 'up') or fallen
 * ('down') more than `threshold` above its running minimum / below its running maximum, once `minInstances`
 * values have been seen. As in river, after an update that detected a change the next update starts afresh.
 */
export interface PageHinkleyOptions {
  /** Values to see before a change can be signalled. */
  minInstances?: number;
  /** Tolerated magnitude of change. */
  delta?: number;
  /** Cumulative deviation that signals a change (λ). */
  threshold?: number;
  /** Forgetting factor of the cumulative sums. */
  alpha?: number;
  /** Detect increases ('up'), decreases ('down') or both. */
  mode?: 'up' | 'down' | 'both';
}

export class PageHinkley {
  readonly minInstances: number;
  readonly delta: number;
  readonly threshold: number;
  readonly alpha: number;
  readonly mode: 'up' | 'down' | 'both';

  private n = 0;
  private mean = 0;
  private sumIncrease = 0;
  private sumDecrease = 0;
  private minIncrease = Infinity;
  private maxDecrease = -1; // river starts it at -1, not -∞
  private detected = false;

  constructor(options: PageHinkleyOptions = {}) {
    this.minInstances = options.minInstances ?? 30;
    this.delta = options.delta ?? 0.005;
    this.threshold = options.threshold ?? 50;
    this.alpha = options.alpha ?? 1 - 0.0001;
    this.mode = options.mode ?? 'both';
    if (!['up', 'down', 'both'].includes(this.mode)) throw new Error(`PageHinkley: invalid mode '${this.mode}'`);
  }

  /** Whether the last update detected a change. */
  get driftDetected(): boolean {
    return this.detected;
  }

  /** Adds one value; true when a change is detected at this value. */
  update(x: number): boolean {
    if (this.detected) this.reset();
    // river's stats.Mean
    this.n += 1;
    this.mean += (1 / this.n) * (x - this.mean);
    const dev = x - this.mean;
    this.sumIncrease = this.alpha * this.sumIncrease + dev - this.delta;
    this.sumDecrease = this.alpha * this.sumDecrease + dev + this.delta;
    if (this.sumIncrease < this.minIncrease) this.minIncrease = this.sumIncrease;
    if (this.sumDecrease > this.maxDecrease) this.maxDecrease = this.sumDecrease;
    if (this.n >= this.minInstances) {
      const up = this.sumIncrease - this.minIncrease > this.threshold;
      const down = this.maxDecrease - this.sumDecrease > this.threshold;
      this.detected = this.mode === 'up' ? up : this.mode === 'down' ? down : up || down;
    }
    return this.detected;
  }

  private reset(): void {
    this.n = 0;
    this.mean = 0;
    this.sumIncrease = 0;
    this.sumDecrease = 0;
    this.minIncrease = Infinity;
    this.maxDecrease = -1;
    this.detected = false;
  }
}
