/**
 * The last `size` values of a series, kept sorted as well as in arrival order, for robust statistics: the median and
 * the median absolute deviation (MAD) of the recent past. Insert and evict are O(size) array moves, which for the
 * few hundred values used here is cheaper than a tree.
 */
export class RobustWindow {
  private readonly ring: Float64Array;
  private readonly sorted: number[] = [];
  private next = 0;
  private readonly deviations: Float64Array;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 3) throw new Error(`a robust window needs at least 3 values, got ${size}`);
    this.ring = new Float64Array(size);
    this.deviations = new Float64Array(size);
  }

  get count(): number {
    return this.sorted.length;
  }

  push(value: number): void {
    if (this.sorted.length === this.size) this.sorted.splice(this.indexOf(this.ring[this.next]!), 1);
    this.sorted.splice(this.indexOf(value), 0, value);
    this.ring[this.next] = value;
    this.next = (this.next + 1) % this.size;
  }

  median(): number {
    return medianOfSorted(this.sorted);
  }

  /** Median absolute deviation from the median (unscaled). */
  mad(): number {
    const m = this.median();
    const n = this.sorted.length;
    for (let i = 0; i < n; i++) this.deviations[i] = Math.abs(this.sorted[i]! - m);
    const d = this.deviations.subarray(0, n).sort();
    return medianOfSorted(d);
  }

  /** Smallest and largest value in the window. */
  range(): [number, number] {
    return [this.sorted[0]!, this.sorted[this.sorted.length - 1]!];
  }

  /** First index whose value is ≥ `value` (binary search). */
  private indexOf(value: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function medianOfSorted(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}
