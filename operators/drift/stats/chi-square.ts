/**
 * Pearson's chi-square goodness-of-fit test.
 *
 * `chiSquare(observed, expected)` = `scipy.stats.chisquare(f_obs, f_exp)`: statistic Σ (o − e)² / e, p-value from
 * the chi-square distribution with k − 1 degrees of freedom. The expected frequencies must already sum to the
 * observed total: like SciPy it throws when the sums differ by more than √ε ≈ 1.49e-8 relative. SciPy's edge
 * cases carry over: an expected 0 with observed > 0 gives statistic ∞ and p 0; a single category gives dof 0 and
 * p NaN.
 *
 * `chiSquareFromCounts(reference, current)` tests a window's category counts against the reference shares
 * (expected = reference share × current total). Conventions, so that it always returns a usable p-value:
 *  - categories empty in both are dropped (they carry no information and would only add degrees of freedom);
 *  - if a remaining category has a zero reference count (a category the reference never saw), every remaining
 *    category of both histograms gets +0.5 (additive smoothing); otherwise that category's expected count would
 *    be 0 and the statistic infinite;
 *  - with fewer than two remaining categories both histograms are one point mass on the same category:
 *    statistic 0, p-value 1, dof 0;
 *  - a histogram with a zero total throws.
 * Drift convention (Evidently): p < 0.05.
 */
import { chiSquareSf } from './special-functions.ts';

export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  dof: number;
}

/** SciPy's sum_check tolerance: sqrt(float64 eps). */
const SUM_RTOL = Math.sqrt(Number.EPSILON);
/** Added to every category of both histograms when the reference has an empty category. */
const SMOOTHING = 0.5;

export function chiSquare(observed: ArrayLike<number>, expected: ArrayLike<number>): ChiSquareResult {
  const k = observed.length;
  if (expected.length !== k) throw new Error(`chiSquare: ${k} observed but ${expected.length} expected frequencies`);
  if (k === 0) throw new Error('chiSquare: no categories');
  let observedSum = 0;
  let expectedSum = 0;
  let statistic = 0;
  for (let i = 0; i < k; i++) {
    const o = observed[i]!;
    const e = expected[i]!;
    observedSum += o;
    expectedSum += e;
    statistic += (o - e) ** 2 / e;
  }
  const relativeDiff = Math.abs(observedSum - expectedSum) / Math.min(observedSum, expectedSum);
  if (relativeDiff > SUM_RTOL) {
    throw new Error(
      `chiSquare: the observed frequencies sum to ${observedSum} but the expected ones to ${expectedSum} ` +
        `(relative difference ${relativeDiff} > ${SUM_RTOL}); scale the expected frequencies to the observed total`,
    );
  }
  const dof = k - 1;
  return { statistic, pValue: chiSquareSf(dof, statistic), dof };
}

export function chiSquareFromCounts(
  referenceCounts: ArrayLike<number>,
  currentCounts: ArrayLike<number>,
): ChiSquareResult {
  if (referenceCounts.length !== currentCounts.length) {
    throw new Error(
      `chiSquareFromCounts: ${referenceCounts.length} reference but ${currentCounts.length} current categories`,
    );
  }
  const reference: number[] = [];
  const current: number[] = [];
  let referenceTotal = 0;
  let currentTotal = 0;
  for (let i = 0; i < referenceCounts.length; i++) {
    if (referenceCounts[i] === 0 && currentCounts[i] === 0) continue;
    reference.push(referenceCounts[i]!);
    current.push(currentCounts[i]!);
    referenceTotal += referenceCounts[i]!;
    currentTotal += currentCounts[i]!;
  }
  if (!(referenceTotal > 0 && currentTotal > 0))
    throw new Error('chiSquareFromCounts: both histograms need a positive total');
  if (reference.length < 2) return { statistic: 0, pValue: 1, dof: 0 };
  if (reference.some((r) => r === 0)) {
    for (let i = 0; i < reference.length; i++) {
      reference[i]! += SMOOTHING;
      current[i]! += SMOOTHING;
    }
    referenceTotal += SMOOTHING * reference.length;
    currentTotal += SMOOTHING * current.length;
  }
  return chiSquare(
    current,
    reference.map((r) => (r / referenceTotal) * currentTotal),
  );
}
