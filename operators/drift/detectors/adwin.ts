/**
 * ADWIN (ADaptive WINdowing, Bifet & Gavaldà 2007): a port of `river.drift.ADWIN` (river 0.26, whose core is
 * `AdaptiveWindowing` in rust_src/adwin.rs), operation for operation so that detections fall on the same
 * elements as river's.
 *
 * The window is stored as an exponential histogram: row i of `rows` holds up to `maxBuckets` buckets summarizing
 * 2^i elements each (their total and variance); when a row overflows, its two oldest buckets merge into the next
 * row. Every `clock` elements (once the window is longer than `gracePeriod`) every split of the window into an
 * older part W0 and a newer part W1 (both ≥ `minWindowLength`) is tested with the Hoeffding/Bernstein-style bound
 * ε_cut; if |mean(W0) − mean(W1)| > ε_cut the oldest bucket is dropped and the test repeats. As in river, after
 * an update that detected a change the next update starts from an empty detector.
 */
export interface AdwinOptions {
  /** Significance: smaller means fewer false alarms and slower detection. */
  delta?: number;
  /** Check for changes every `clock` elements. */
  clock?: number;
  /** Buckets kept per row before two are merged. */
  maxBuckets?: number;
  /** Minimum length of each sub-window in a tested split. */
  minWindowLength?: number;
  /** No change detection before the window is longer than this. */
  gracePeriod?: number;
}

/** One row of the exponential histogram: buckets of 2^i elements, oldest first. */
interface Row {
  totals: Float64Array;
  variances: Float64Array;
  count: number;
}

export class Adwin {
  readonly delta: number;
  readonly clock: number;
  readonly maxBuckets: number;
  readonly minWindowLength: number;
  readonly gracePeriod: number;

  private rows: Row[] = [];
  private total = 0;
  /** Sum of squared deviations from the window mean (river's `variance`). */
  private varianceSum = 0;
  private windowWidth = 0;
  private tick = 0;
  private detected = false;

  constructor(options: AdwinOptions = {}) {
    this.delta = options.delta ?? 0.002;
    this.clock = options.clock ?? 32;
    this.maxBuckets = options.maxBuckets ?? 5;
    this.minWindowLength = options.minWindowLength ?? 5;
    this.gracePeriod = options.gracePeriod ?? 10;
    this.reset();
  }

  /** Number of elements in the current window. */
  get width(): number {
    return this.windowWidth;
  }

  /** Mean of the current window (0 when empty). */
  get estimation(): number {
    return this.windowWidth === 0 ? 0 : this.total / this.windowWidth;
  }

  /** Population variance of the current window (0 when empty). */
  get variance(): number {
    return this.windowWidth === 0 ? 0 : this.varianceSum / this.windowWidth;
  }

  /** Whether the last update detected a change. */
  get driftDetected(): boolean {
    return this.detected;
  }

  /** Adds one element; true when a change is detected at this element. */
  update(x: number): boolean {
    if (this.detected) this.reset();
    this.insert(x);
    this.detected = this.detectChange();
    return this.detected;
  }

  private reset(): void {
    this.rows = [this.newRow()];
    this.total = 0;
    this.varianceSum = 0;
    this.windowWidth = 0;
    this.tick = 0;
    this.detected = false;
  }

  private newRow(): Row {
    // One spare slot: a row briefly holds maxBuckets + 1 buckets before compression.
    return {
      totals: new Float64Array(this.maxBuckets + 1),
      variances: new Float64Array(this.maxBuckets + 1),
      count: 0,
    };
  }

  private insert(value: number): void {
    const row = this.rows[0]!;
    row.totals[row.count] = value;
    row.variances[row.count] = 0;
    row.count++;
    // Streaming variance update, in river's operation order.
    this.windowWidth += 1;
    let incremental = 0;
    if (this.windowWidth > 1) {
      const d = value - this.total / (this.windowWidth - 1);
      incremental = ((this.windowWidth - 1) * d * d) / this.windowWidth;
    }
    this.varianceSum += incremental;
    this.total += value;
    this.compress();
  }

  /** Merges the two oldest buckets of every full row into the next row. */
  private compress(): void {
    for (let i = 0; this.rows[i]!.count === this.maxBuckets + 1; i++) {
      const row = this.rows[i]!;
      const size = 2 ** i;
      const mu1 = row.totals[0]! / size;
      const mu2 = row.totals[1]! / size;
      const total12 = row.totals[0]! + row.totals[1]!;
      const v12 = row.variances[0]! + row.variances[1]! + size * 0.5 * (mu1 - mu2) * (mu1 - mu2);
      if (i + 1 >= this.rows.length) this.rows.push(this.newRow());
      const next = this.rows[i + 1]!;
      next.totals[next.count] = total12;
      next.variances[next.count] = v12;
      next.count++;
      removeOldest(row, 2);
      if (next.count <= this.maxBuckets) break;
    }
  }

  /** Drops the oldest bucket (from the last row). */
  private deleteOldest(): void {
    const last = this.rows.length - 1;
    const row = this.rows[last]!;
    const n = 2 ** last;
    const u = row.totals[0]!;
    const v = row.variances[0]!;
    const mu = u / n;
    this.windowWidth -= n;
    this.total -= u;
    const muWindow = this.total / this.windowWidth;
    this.varianceSum -= v + (n * this.windowWidth * (mu - muWindow) * (mu - muWindow)) / (n + this.windowWidth);
    removeOldest(row, 1);
    if (row.count === 0) this.rows.pop();
  }

  private detectChange(): boolean {
    let changed = false;
    this.tick += 1;
    if (this.tick % this.clock === 0 && this.windowWidth > this.gracePeriod) {
      let reduceWidth = true;
      while (reduceWidth) {
        reduceWidth = false;
        let n0 = 0;
        let n1 = this.windowWidth;
        let u0 = 0;
        let u1 = this.total;
        // Split points from the oldest bucket to the newest; W0 = older part, W1 = newer part.
        scan: for (let i = this.rows.length - 1; i >= 0; i--) {
          const row = this.rows[i]!;
          const size = 2 ** i;
          for (let k = 0; k < row.count; k++) {
            n0 += size;
            n1 -= size;
            u0 += row.totals[k]!;
            u1 -= row.totals[k]!;
            if (i === 0 && k === row.count - 1) break scan;
            const deltaMean = u0 / n0 - u1 / n1;
            if (n1 >= this.minWindowLength && n0 >= this.minWindowLength && this.cutExceeded(n0, n1, deltaMean)) {
              reduceWidth = true;
              changed = true;
              if (this.windowWidth > 0) {
                this.deleteOldest();
                break scan;
              }
            }
          }
        }
      }
    }
    return changed;
  }

  private cutExceeded(n0: number, n1: number, deltaMean: number): boolean {
    const deltaPrime = Math.log((2 * Math.log(this.windowWidth)) / this.delta);
    const mRecip = 1 / (n0 - this.minWindowLength + 1) + 1 / (n1 - this.minWindowLength + 1);
    const epsilon =
      Math.sqrt(2 * mRecip * (this.varianceSum / this.windowWidth) * deltaPrime) + (2 / 3) * deltaPrime * mRecip;
    return Math.abs(deltaMean) > epsilon;
  }
}

function removeOldest(row: Row, n: number): void {
  row.totals.copyWithin(0, n, row.count);
  row.variances.copyWithin(0, n, row.count);
  row.totals.fill(0, row.count - n, row.count);
  row.variances.fill(0, row.count - n, row.count);
  row.count -= n;
}
