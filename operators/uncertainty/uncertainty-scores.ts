/**
 * Uncertainty of one prediction, as in modAL's uncertainty sampling, each scaled to [0, 1] with higher = less sure
 * (1 = the model cannot tell the top classes apart, 0 = all mass on one class):
 *
 *   margin            1 − (p1 − p2)                 p1, p2 the two largest probabilities
 *   entropy           −Σ p·ln p / ln k              k classes; 1 for the uniform distribution
 *   least_confidence  (1 − p1) · k / (k − 1)        modAL's 1 − p1, stretched so that uniform gives 1
 *
 * For two classes p2 = 1 − p1, so margin = least_confidence = 2·(1 − p1) and entropy is a decreasing function of p1:
 * all three rank two-class predictions identically. With more classes they differ (margin looks at the top two
 * only, entropy at the whole distribution), which is why the method is configurable.
 *
 * Probabilities are renormalized to sum 1 first: float32 softmax outputs sum to 1 ± 1e-7, and without this the
 * margin of a two-class prediction would carry that error and could swap near-ties with least_confidence.
 * Inputs are expected to have passed `checkProbabilities`.
 */

export type UncertaintyMethod = 'margin' | 'entropy' | 'least_confidence';

export const UNCERTAINTY_METHODS: readonly UncertaintyMethod[] = ['margin', 'entropy', 'least_confidence'];

/** Throws unless `p` holds at least two finite, non-negative numbers with a positive sum. */
export function checkProbabilities(p: ArrayLike<number>): void {
  if (p.length < 2) throw new Error(`probabilities need at least 2 classes, got ${p.length}`);
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    if (!Number.isFinite(v) || v < 0)
      throw new Error(`probability ${i} is ${v}: probabilities must be finite and non-negative`);
    sum += v;
  }
  if (!(sum > 0)) throw new Error('probabilities sum to 0');
}

function sumOf(p: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += p[i]!;
  return s;
}

/** Index of the largest probability (the first one on ties, as `infer` picks the label). */
export function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return best;
}

/** The largest probability after renormalization: what the band is applied to. */
export function topProbability(p: ArrayLike<number>): number {
  return p[argmax(p)]! / sumOf(p);
}

export function marginUncertainty(p: ArrayLike<number>): number {
  let p1 = -Infinity;
  let p2 = -Infinity;
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    if (v > p1) {
      p2 = p1;
      p1 = v;
    } else if (v > p2) p2 = v;
  }
  return 1 - (p1 - p2) / sumOf(p);
}

export function entropyUncertainty(p: ArrayLike<number>): number {
  const s = sumOf(p);
  let h = 0;
  for (let i = 0; i < p.length; i++) {
    const q = p[i]! / s;
    if (q > 0) h -= q * Math.log(q);
  }
  return Math.min(1, h / Math.log(p.length));
}

export function leastConfidence(p: ArrayLike<number>): number {
  const k = p.length;
  return ((1 - topProbability(p)) * k) / (k - 1);
}

export function uncertainty(method: UncertaintyMethod, p: ArrayLike<number>): number {
  switch (method) {
    case 'margin':
      return marginUncertainty(p);
    case 'entropy':
      return entropyUncertainty(p);
    case 'least_confidence':
      return leastConfidence(p);
    default:
      throw new Error(
        `unknown uncertainty method ${JSON.stringify(method)} (known: ${UNCERTAINTY_METHODS.join(', ')})`,
      );
  }
}
