import { describe, expect, it } from 'vitest';
import {
  UNCERTAINTY_METHODS,
  checkProbabilities,
  entropyUncertainty,
  leastConfidence,
  marginUncertainty,
  topProbability,
  uncertainty,
} from './uncertainty-scores.ts';

/**
 * Indices of `ps` from most to least uncertain under `method` (ties: the earlier first, as the operator breaks them).
 */
const ranking = (method: (typeof UNCERTAINTY_METHODS)[number], ps: number[][]) =>
  ps
    .map((p, i) => ({ i, u: uncertainty(method, p) }))
    .sort((a, b) => b.u - a.u || a.i - b.i)
    .map((x) => x.i);

describe('uncertainty scores', () => {
  it('match hand-computed values for three classes', () => {
    const p = [0.7, 0.2, 0.1];
    expect(marginUncertainty(p)).toBeCloseTo(1 - (0.7 - 0.2), 12);
    expect(leastConfidence(p)).toBeCloseTo((1 - 0.7) * 1.5, 12);
    const h = -(0.7 * Math.log(0.7) + 0.2 * Math.log(0.2) + 0.1 * Math.log(0.1));
    expect(entropyUncertainty(p)).toBeCloseTo(h / Math.log(3), 12);
    expect(entropyUncertainty(p)).toBeCloseTo(0.72985, 4); // 0.80182 nats / 1.09861 (ln 3)
    expect(topProbability(p)).toBeCloseTo(0.7, 12);
  });

  it('match hand-computed values for two classes, and are 1 for a coin flip and 0 for certainty', () => {
    expect(marginUncertainty([0.6, 0.4])).toBeCloseTo(0.8, 12);
    expect(leastConfidence([0.6, 0.4])).toBeCloseTo(0.8, 12);
    expect(entropyUncertainty([0.6, 0.4])).toBeCloseTo(-(0.6 * Math.log2(0.6) + 0.4 * Math.log2(0.4)), 12); // 0.97095
    for (const method of UNCERTAINTY_METHODS) {
      expect(uncertainty(method, [0.5, 0.5])).toBeCloseTo(1, 12);
      expect(uncertainty(method, [0.25, 0.25, 0.25, 0.25])).toBeCloseTo(1, 12);
      expect(uncertainty(method, [0, 1, 0])).toBe(0);
    }
  });

  it('renormalize probabilities that do not sum to exactly 1', () => {
    expect(marginUncertainty([3, 1])).toBeCloseTo(marginUncertainty([0.75, 0.25]), 12);
    expect(entropyUncertainty([3, 1])).toBeCloseTo(entropyUncertainty([0.75, 0.25]), 12);
    expect(topProbability([3, 1])).toBeCloseTo(0.75, 12);
    // float32 softmax outputs: a sum of 1 ± 1e-7 does not leak into the two-class margin
    const f = Float32Array.from([0.6000001, 0.4000002]);
    expect(marginUncertainty(f)).toBeCloseTo(leastConfidence(f), 14);
  });

  it('rank two-class predictions identically (margin = least confidence = 2(1 − p1); entropy decreasing in p1)', () => {
    // float32 probabilities as `infer` produces them, over the whole range, with exact repeats (re-posted inputs)
    const ps: number[][] = [];
    for (let i = 0; i < 2000; i++) {
      const logit = Math.sin(i * 12.9898) * 6;
      const p1 = 1 / (1 + Math.exp(-logit));
      ps.push(Array.from(Float32Array.from([p1, 1 - p1])));
    }
    ps.push(ps[17]!.slice(), ps[3]!.slice());
    const margin = ranking('margin', ps);
    expect(ranking('least_confidence', ps)).toEqual(margin);
    expect(ranking('entropy', ps)).toEqual(margin);
    for (const p of ps) expect(marginUncertainty(p)).toBeCloseTo(2 * (1 - topProbability(p)), 12);
  });

  it('differ for more classes: margin looks at the top two, entropy at the whole distribution', () => {
    const tied = [0.5, 0.5, 0];
    const spread = [0.4, 0.3, 0.3];
    expect(marginUncertainty(tied)).toBeGreaterThan(marginUncertainty(spread));
    expect(entropyUncertainty(spread)).toBeGreaterThan(entropyUncertainty(tied));
  });

  it('refuse probabilities no score can be computed from', () => {
    expect(() => checkProbabilities([1])).toThrow('at least 2 classes');
    expect(() => checkProbabilities([0.5, Number.NaN])).toThrow('probability 1 is NaN');
    expect(() => checkProbabilities([-0.1, 1.1])).toThrow('non-negative');
    expect(() => checkProbabilities([0, 0])).toThrow('sum to 0');
    expect(() => checkProbabilities([0.2, 0.8])).not.toThrow();
    expect(() => uncertainty('variance' as never, [0.5, 0.5])).toThrow('unknown uncertainty method');
  });
});
