/**
 * 1-D Wasserstein (earth mover's) distance between two empirical distributions, and Evidently's normed version.
 *
 * `wassersteinDistance(u, v)` = `scipy.stats.wasserstein_distance(u, v)` (unweighted): ∫ |U(t) − V(t)| dt over the
 * pooled sorted values, computed by one merge pass after sorting (O((n + m) log(n + m))).
 *
 * `normalizedWasserstein(reference, current)` = Evidently's `wasserstein` stat test:
 * `wasserstein_distance(reference, current) / max(np.std(reference), 0.001)` (population std, ddof 0), so the
 * distance is in units of the reference's spread. Convention (Evidently's default): drift when the value is
 * ≥ 0.1, i.e. the distributions are a tenth of a reference standard deviation apart. A constant reference
 * (std 0) is divided by 0.001 instead.
 *
 * Empty samples throw (SciPy: "Distribution can't be empty"); NaN propagates to NaN.
 */
import { sortedCopy } from './sorted.ts';

/** Evidently's floor for the reference standard deviation. */
const MIN_STD = 0.001;

export function wassersteinDistance(u: ArrayLike<number>, v: ArrayLike<number>): number {
  if (u.length === 0 || v.length === 0) throw new Error("wassersteinDistance: distributions can't be empty");
  const x = sortedCopy(u);
  const y = sortedCopy(v);
  const nu = x.length;
  const nv = y.length;
  if (Number.isNaN(x[nu - 1]!) || Number.isNaN(y[nv - 1]!)) return NaN;
  // Walk the pooled values in order; between consecutive values t_k < t_{k+1} both CDFs are constant.
  let i = 0;
  let j = 0;
  let t = Math.min(x[0]!, y[0]!);
  let sum = 0;
  for (;;) {
    while (i < nu && x[i]! <= t) i++;
    while (j < nv && y[j]! <= t) j++;
    if (i === nu && j === nv) break;
    const next = j >= nv || (i < nu && x[i]! <= y[j]!) ? x[i]! : y[j]!;
    sum += Math.abs(i / nu - j / nv) * (next - t);
    t = next;
  }
  return sum;
}

export function normalizedWasserstein(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  return wassersteinDistance(reference, current) / Math.max(populationStd(reference), MIN_STD);
}

/** np.std(values): two-pass, ddof 0. */
function populationStd(values: ArrayLike<number>): number {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2;
  return Math.sqrt(ss / n);
}
