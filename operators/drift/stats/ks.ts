/**
 * Two-sample Kolmogorov–Smirnov test, two-sided: a port of `scipy.stats.ks_2samp(a, b)` (SciPy 1.17, defaults
 * alternative='two-sided', method='auto').
 *
 *  - statistic D = max |F_a − F_b| over the pooled values (ties handled like SciPy's searchsorted 'right');
 *  - 'auto': exact when max(n1, n2) ≤ 10,000, else asymptotic;
 *  - exact: D is rounded to h / lcm(n1, n2); P(D ≥ h/lcm) by Hodges' lattice-path counting — for n1 == n2 the
 *    closed "outside the square" series, otherwise the "inside method" recursion for 1 − p (Viehmann 2021);
 *    if that fails (a probability outside [0, 1]) SciPy falls back to the asymptotic method, and so does this;
 *  - asymptotic: `kstwo.sf(D, round(n1·n2 / (n1 + n2)))`, the one-sample KS distribution at the effective size.
 *
 * NaN anywhere in the input propagates to a NaN statistic and p-value (SciPy's nan_policy='propagate').
 * Cost: O((n1 + n2) log(n1 + n2)) for D; the exact p-value is O(n) for equal sizes and O(D · n1 · n2) otherwise
 * (the same algorithm as SciPy).
 */
import { kstwoSf } from './special-functions.ts';
import { sortedCopy } from './sorted.ts';

export interface KsResult {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymp';
}

/** SciPy's MAX_AUTO_N: 'auto' is exact up to this sample size. */
const MAX_AUTO_N = 10000;

export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new Error(`ksTwoSample: samples must not be empty (got sizes ${n1} and ${n2})`);
  let method: KsResult['method'] = Math.max(n1, n2) <= MAX_AUTO_N ? 'exact' : 'asymp';
  const x = sortedCopy(a);
  const y = sortedCopy(b);
  if (Number.isNaN(x[n1 - 1]!) || Number.isNaN(y[n2 - 1]!)) return { statistic: NaN, pValue: NaN, method };

  let d = ksStatistic(x, y);
  let pValue = NaN;
  if (method === 'exact') {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    d = h / lcm;
    pValue = h === 0 ? 1 : n1 === n2 ? probOutsideSquare(n1, h) : probOutsideInside(n1, n2, g, h);
    if (!(pValue >= 0 && pValue <= 1)) method = 'asymp'; // SciPy: "Exact calculation unsuccessful"
  }
  if (method === 'asymp') {
    const en = (n1 * n2) / (n1 + n2);
    pValue = kstwoSf(d, roundHalfEven(en));
  }
  return { statistic: d, pValue: Math.min(Math.max(pValue, 0), 1), method };
}

/** max |F_x − F_y| for sorted x and y, evaluated at every pooled value (ECDFs right-continuous). */
function ksStatistic(x: Float64Array, y: Float64Array): number {
  const n1 = x.length;
  const n2 = y.length;
  let i = 0;
  let j = 0;
  let maxDiff = -Infinity;
  let minDiff = Infinity;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && x[i]! <= y[j]!) ? x[i]! : y[j]!;
    while (i < n1 && x[i]! <= v) i++;
    while (j < n2 && y[j]! <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxDiff) maxDiff = diff;
    if (diff < minDiff) minDiff = diff;
  }
  const minS = Math.min(Math.max(-minDiff, 0), 1);
  return Math.max(minS, maxDiff);
}

/**
 * P(D_{n,n} ≥ h/n) for two samples of equal size n (SciPy `_compute_prob_outside_square`):
 * 2 · Σ_k (−1)^(k−1) C(2n, n − kh) / C(2n, n), evaluated in Horner form to avoid cancellation.
 */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
  }
  return 2 * P;
}

/**
 * Proportion of lattice paths from (0,0) to (m,n) that leave the band |x/m − y/n| < h/lcm(m,n), i.e.
 * P(D ≥ h/lcm) (SciPy `_compute_outer_prob_inside_method`, Hodges' inside method rewritten by Viehmann to
 * recurse on 1 − p directly). Only a sliding window of one column is kept.
 */
function probOutsideInside(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    // Carried-over entries beyond the new window are outside the band: set them to 1.
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1]!;
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y) [x, y] = [y, x % y];
  return x;
}

/** np.round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
