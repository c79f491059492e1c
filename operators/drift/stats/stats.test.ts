/**
 * Every drift statistic against values computed by its reference implementation (SciPy / NumPy, see
 * scripts/fixtures/drift_stats.py): within 1e-6, absolute for probabilities and relative for large values.
 */
import { describe, expect, it } from 'vitest';
import { expectClose, expectRelative, fixtures, sample } from '../fixtures/drift-fixtures.ts';
import { chiSquare, chiSquareFromCounts } from './chi-square.ts';
import { jensenShannonDistance } from './jensen-shannon.ts';
import { ksTwoSample } from './ks.ts';
import { binCounts, psi, referenceBinEdges } from './psi.ts';
import { chiSquareSf, kstwoSf, logGamma, smirnovSf } from './special-functions.ts';
import { normalizedWasserstein, wassersteinDistance } from './wasserstein.ts';

const names = <T extends { name: string }>(cases: T[]) => cases.map((c) => [c.name, c] as const);

describe('ksTwoSample = scipy.stats.ks_2samp', () => {
  it.each(names(fixtures.ks))('%s', (_name, c) => {
    const result = ksTwoSample(sample(c.a), sample(c.b));
    expectClose(result.statistic, c.statistic, 'statistic');
    expectClose(result.pValue, c.pValue, 'p-value');
    // Far tails too: relative accuracy wherever the p-value is representable.
    expectRelative(result.pValue, c.pValue, 'p-value (relative)', 1e-6);
    expect(result.method).toBe(c.method);
  });

  it('covers equal and unequal sizes on the exact path and sizes above 10,000 on the asymptotic one', () => {
    const sizes = (method: string) =>
      fixtures.ks.filter((c) => c.method === method).map((c) => [sample(c.a).length, sample(c.b).length]);
    expect(sizes('exact').some(([a, b]) => a === b)).toBe(true);
    expect(sizes('exact').some(([a, b]) => a !== b)).toBe(true);
    expect(sizes('asymp').length).toBeGreaterThanOrEqual(5);
    expect(sizes('asymp').every(([a, b]) => Math.max(a!, b!) > 10000)).toBe(true);
  });

  it('is symmetric in its arguments and does not modify them', () => {
    const a = sample('normal300');
    const b = sample('normal200_shift03');
    const before = a.slice();
    expect(ksTwoSample(b, a)).toEqual(ksTwoSample(a, b));
    expect(a).toEqual(before);
  });

  it('throws on an empty sample and propagates NaN', () => {
    expect(() => ksTwoSample([], [1, 2])).toThrow(/empty/);
    expect(() => ksTwoSample([1, 2], new Float64Array(0))).toThrow(/empty/);
    const r = ksTwoSample([1, NaN, 3], [1, 2]);
    expect(r.statistic).toBeNaN();
    expect(r.pValue).toBeNaN();
  });
});

describe('kstwoSf = scipy.stats.kstwo.sf (every branch of SciPy _kolmogn)', () => {
  it.each(fixtures.kstwo.map((c) => [c.n, c.d, c]))('n=%d d=%d', (_n, _d, c) => {
    expectClose(kstwoSf(c.d, c.n), c.sf, 'sf');
    expectRelative(kstwoSf(c.d, c.n), c.sf, 'sf (relative)', 1e-6);
  });
});

describe('smirnovSf = scipy.special.smirnov', () => {
  it.each(fixtures.smirnov.map((c) => [c.n, c.d, c]))('n=%d d=%d', (_n, _d, c) => {
    expectRelative(smirnovSf(c.n, c.d), c.sf, 'sf (relative)', 1e-6);
  });
});

describe('wassersteinDistance = scipy.stats.wasserstein_distance; normalizedWasserstein = Evidently', () => {
  it.each(names(fixtures.wasserstein))('%s', (_name, c) => {
    const reference = sample(c.reference);
    const current = sample(c.current);
    expectClose(wassersteinDistance(reference, current), c.distance, 'distance');
    expectClose(normalizedWasserstein(reference, current), c.normalized, 'normalized');
    expectClose(wassersteinDistance(current, reference), c.distance, 'distance, swapped');
  });

  it('accepts typed arrays, throws on an empty sample, propagates NaN', () => {
    expect(wassersteinDistance(Float64Array.of(0, 1), Float64Array.of(2, 3))).toBe(2);
    expect(() => wassersteinDistance([], [1])).toThrow(/empty/);
    expect(wassersteinDistance([1, NaN], [1])).toBeNaN();
  });
});

describe('PSI (NumPy reference in the fixture script)', () => {
  it.each(names(fixtures.psi))('%s', (_name, c) => {
    const edges = referenceBinEdges(sample(c.reference), c.bins);
    expect(edges.length).toBe(c.edges.length);
    edges.forEach((e, i) => {
      expectClose(e, c.edges[i]!, `edge ${i}`);
    });
    const referenceCounts = binCounts(sample(c.reference), edges);
    const currentCounts = binCounts(sample(c.current), edges);
    expect(referenceCounts).toEqual(c.referenceCounts);
    expect(currentCounts).toEqual(c.currentCounts);
    expectClose(psi(referenceCounts, currentCounts), c.psi, 'psi');
  });

  it('puts values outside the reference range in the outer bins; bins are closed on the right', () => {
    expect(binCounts([-100, 1, 1.5, 2, 3, 100, NaN], [1, 2, 3])).toEqual([2, 2, 1, 1]);
    const edges = referenceBinEdges([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 10);
    expect(binCounts([-1e9, 1e9], edges)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('collapses tied quantiles into one edge (fewer bins), a constant reference gives two bins', () => {
    const zeros = [...new Array(60).fill(0), ...Array.from({ length: 40 }, (_, i) => i + 1)];
    const edges = referenceBinEdges(zeros, 10);
    expect(edges[0]).toBe(0);
    expect(new Set(edges).size).toBe(edges.length);
    expect(edges.length).toBe(5); // deciles 0.1…0.5 are all 0
    expect(referenceBinEdges(new Array(20).fill(7.25))).toEqual([7.25]);
    expect(binCounts([7.25, 7.25, 8], [7.25])).toEqual([2, 1]);
  });

  it('replaces empty-bin shares with epsilon and is 0 for identical histograms', () => {
    expect(psi([10, 20, 30], [1, 2, 3])).toBe(0);
    const r = [50, 50, 0];
    const c = [0, 50, 50];
    const e = 1e-4;
    expect(psi(r, c)).toBeCloseTo((e - 0.5) * Math.log(e / 0.5) + (0.5 - e) * Math.log(0.5 / e), 12);
    expect(psi(r, c, 1e-3)).toBeLessThan(psi(r, c, 1e-4));
    expect(() => psi([1, 2], [1, 2, 3])).toThrow(/bins/);
    expect(() => referenceBinEdges([])).toThrow(/no values/);
  });
});

describe('chiSquare = scipy.stats.chisquare(f_obs, f_exp)', () => {
  it.each(names(fixtures.chiSquare))('%s', (_name, c) => {
    if (c.throws) {
      expect(() => chiSquare(c.observed, c.expected)).toThrow(/sum/);
      return;
    }
    const result = chiSquare(c.observed, c.expected);
    expectClose(result.statistic, c.statistic!, 'statistic');
    expectClose(result.pValue, c.pValue!, 'p-value');
    expectRelative(result.pValue, c.pValue!, 'p-value (relative)', 1e-6);
    expect(result.dof).toBe(c.dof);
  });

  it("covers several degrees of freedom and SciPy's sum check", () => {
    expect(new Set(fixtures.chiSquare.map((c) => c.dof).filter((d) => d !== undefined)).size).toBeGreaterThanOrEqual(4);
    expect(fixtures.chiSquare.filter((c) => c.throws).length).toBe(1);
  });
});

describe('chiSquareFromCounts (drops empty-on-both categories; +0.5 smoothing if the reference has an empty)', () => {
  it.each(names(fixtures.chiSquareFromCounts))('%s', (_name, c) => {
    const result = chiSquareFromCounts(c.reference, c.current);
    expectClose(result.statistic, c.statistic, 'statistic');
    expectClose(result.pValue, c.pValue, 'p-value');
    expect(result.dof).toBe(c.dof);
  });

  it('smooths only when the reference has an empty category', () => {
    // No empty reference category: plain chi-square against the reference shares.
    expect(chiSquareFromCounts([10, 30], [20, 20])).toEqual(chiSquare([20, 20], [10, 30]));
    // An unseen category: both histograms + 0.5 → finite statistic instead of ∞.
    const smoothed = chiSquareFromCounts([10, 30, 0], [20, 20, 5]);
    expect(smoothed).toEqual(
      chiSquare([20.5, 20.5, 5.5], [(10.5 / 41.5) * 46.5, (30.5 / 41.5) * 46.5, (0.5 / 41.5) * 46.5]),
    );
    expect(Number.isFinite(smoothed.statistic)).toBe(true);
    expect(() => chiSquareFromCounts([0, 0], [1, 2])).toThrow(/positive total/);
  });
});

describe('chiSquareSf = scipy.special.chdtrc', () => {
  it.each(fixtures.chiSquareSf.map((c) => [c.df, c.x, c]))('df=%d x=%d', (_df, _x, c) => {
    expectRelative(chiSquareSf(c.df, c.x), c.sf, 'sf (relative)', 1e-9);
  });

  it('log-gamma at known values', () => {
    expect(logGamma(1)).toBeCloseTo(0, 14);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 14);
    expect(logGamma(101)).toBeCloseTo(363.73937555556347, 10); // log(100!)
  });
});

describe('jensenShannonDistance = scipy.spatial.distance.jensenshannon', () => {
  it.each(names(fixtures.jensenShannon))('%s', (_name, c) => {
    expectClose(jensenShannonDistance(c.p, c.q, c.base), c.distance, 'distance');
    expectClose(jensenShannonDistance(c.q, c.p, c.base), c.distance, 'distance, swapped');
  });

  it('defaults to base 2 and throws where SciPy would return NaN', () => {
    expect(jensenShannonDistance([1, 0], [0, 1])).toBe(1);
    expect(() => jensenShannonDistance([0, 0], [1, 1])).toThrow(/positive total/);
    expect(() => jensenShannonDistance([1], [1, 2])).toThrow(/categories/);
  });
});
