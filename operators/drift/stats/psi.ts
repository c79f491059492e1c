/**
 * Population Stability Index over fixed bins cut at the reference's quantiles.
 *
 * Bins. `referenceBinEdges(reference, bins)` returns only the *interior* cut points: the reference quantiles at
 * k/bins, k = 1 … bins−1 (NumPy's default 'linear' quantile), with duplicates removed. Ties in the reference
 * (e.g. 40 % zeros) make several quantiles equal; they collapse into one edge, so such a reference simply gets
 * fewer bins. The outer bins are open: bin 0 is (−∞, e_0], bin i is (e_{i−1}, e_i], the last is (e_last, +∞), so
 * a live value below the reference minimum lands in the first bin and one above the maximum in the last bin.
 * Bins are closed on the right, so a point mass sitting on an edge (zeros, a clipped maximum) stays in one bin.
 * A constant reference gives a single edge (its value) and two bins. NaN values are not counted; NaN in the
 * reference is ignored. Edges are finite numbers, so a profile can store them as JSON.
 *
 * `psi(r, c, ε)` = Σ (c_i% − r_i%) · ln(c_i% / r_i%) with shares = count / total, and an empty bin's share
 * replaced by ε = 1e-4 (Evidently's convention; shares are not renormalized afterwards).
 * Thresholds: PSI ≥ 0.1 minor shift, ≥ 0.25 major shift.
 */
import { sortedCopy } from './sorted.ts';

export function referenceBinEdges(reference: ArrayLike<number>, bins = 10): number[] {
  if (!Number.isInteger(bins) || bins < 1)
    throw new Error(`referenceBinEdges: bins must be a positive integer, got ${bins}`);
  const all = sortedCopy(reference);
  let n = all.length;
  while (n > 0 && Number.isNaN(all[n - 1]!)) n--;
  if (n === 0) throw new Error('referenceBinEdges: the reference has no values');
  const sorted = all.subarray(0, n);
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const q = quantile(sorted, k / bins);
    if (edges.length === 0 || q !== edges[edges.length - 1]) edges.push(q);
  }
  return edges;
}

/** Counts per bin (edges.length + 1 bins): a value goes to the number of edges strictly below it. */
export function binCounts(values: ArrayLike<number>, edges: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (Number.isNaN(x)) continue;
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]!++;
  }
  return counts;
}

export function psi(referenceCounts: ArrayLike<number>, currentCounts: ArrayLike<number>, epsilon = 1e-4): number {
  if (referenceCounts.length !== currentCounts.length) {
    throw new Error(`psi: ${referenceCounts.length} reference bins but ${currentCounts.length} current bins`);
  }
  const referenceTotal = total(referenceCounts);
  const currentTotal = total(currentCounts);
  if (referenceTotal <= 0 || currentTotal <= 0) throw new Error('psi: both histograms need a positive total');
  let sum = 0;
  for (let i = 0; i < referenceCounts.length; i++) {
    const r = share(referenceCounts[i]!, referenceTotal, epsilon);
    const c = share(currentCounts[i]!, currentTotal, epsilon);
    sum += (c - r) * Math.log(c / r);
  }
  return sum;
}

function share(count: number, total: number, epsilon: number): number {
  return count === 0 ? epsilon : count / total;
}

function total(counts: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < counts.length; i++) s += counts[i]!;
  return s;
}

/** np.quantile(sorted, q) with the default 'linear' method, including NumPy's two-sided lerp. */
function quantile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  const index = (n - 1) * q;
  if (index >= n - 1) return sorted[n - 1]!;
  const lo = Math.floor(index);
  const a = sorted[lo]!;
  const b = sorted[lo + 1]!;
  const t = index - lo;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}
