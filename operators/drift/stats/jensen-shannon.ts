/**
 * Jensen–Shannon distance between two discrete distributions given as counts or probabilities over the same
 * categories: `scipy.spatial.distance.jensenshannon(p, q, base)`. Both vectors are normalized to sum 1, then
 * sqrt((KL(p‖m) + KL(q‖m)) / 2 / ln(base)) with m = (p + q) / 2; a zero probability contributes 0 (rel_entr).
 * In base 2 it lies in [0, 1]: 0 for identical distributions, 1 for disjoint supports.
 * Drift convention (Evidently): distance ≥ 0.1.
 *
 * Deviation from SciPy: where SciPy returns NaN (a histogram summing to 0) this throws, and a sum of KL terms
 * that rounds to a tiny negative number gives 0 rather than sqrt's NaN.
 */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>, base = 2): number {
  if (p.length !== q.length) throw new Error(`jensenShannonDistance: ${p.length} vs ${q.length} categories`);
  const pSum = sum(p);
  const qSum = sum(q);
  if (!(pSum > 0 && qSum > 0)) throw new Error('jensenShannonDistance: both distributions need a positive total');
  let left = 0;
  let right = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / pSum;
    const qi = q[i]! / qSum;
    const m = (pi + qi) / 2;
    left += relEntr(pi, m);
    right += relEntr(qi, m);
  }
  const js = (left + right) / Math.log(base);
  return Math.sqrt(Math.max(js / 2, 0));
}

/** scipy.special.rel_entr: x·ln(x/y), 0 when x = 0, ∞ for negative arguments. */
function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s;
}
