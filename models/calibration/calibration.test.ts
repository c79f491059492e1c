/**
 * Calibration on synthetic predictions whose true accuracy is known: top-class probabilities p are drawn, each
 * prediction is right with probability g(p) for a known distortion g, and the estimate on a fresh sample — drawn from
 * another distribution of p (covariate shift, the case CBPE is for) — is checked against the true mean of g(p).
 */
import { describe, expect, it } from 'vitest';
import { rng } from '../seeded-random.ts';
import {
  type Calibration,
  ISOTONIC_PRIOR_ROWS,
  MIN_ISOTONIC_ROWS,
  calibrate,
  expectedAccuracy,
  fitCalibration,
} from './calibration.ts';

const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, v) => s + v, 0) / xs.length;
const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** n top-class probabilities of a binary classifier (in [0.5, 1]) from `draw`, and correctness ~ Bernoulli(g(p)). */
function sample(n: number, random: () => number, draw: (u: number) => number, g: (p: number) => number) {
  const p = Float64Array.from({ length: n }, () => draw(random()));
  const correct = Array.from(p, (v) => (random() < g(v) ? 1 : 0) as 0 | 1);
  return { p, correct };
}

const uniformTop = (u: number) => 0.5 + 0.5 * u;
/** Skewed towards confident predictions: the shifted production data. */
const confidentTop = (u: number) => 0.5 + 0.5 * Math.sqrt(u);

describe('fitCalibration + expectedAccuracy on data with a known accuracy', () => {
  it('isotonic: an overconfident model with a convex distortion, estimated under covariate shift', () => {
    const g = (p: number) => 0.5 + 0.5 * ((p - 0.5) / 0.5) ** 2; // right far less often than it claims, except near 1
    const random = rng(11);
    const reference = sample(5_000, random, uniformTop, g);
    const cal = fitCalibration(reference.p, reference.correct, 'isotonic', { priorRows: 0 });
    expect(cal.method).toBe('isotonic');

    const fresh = sample(5_000, random, confidentTop, g);
    const truth = mean(fresh.p.map(g));
    const estimate = expectedAccuracy(cal, fresh.p);
    const uncalibrated = mean(fresh.p);
    expect(Math.abs(uncalibrated - truth)).toBeGreaterThan(0.05); // the raw confidence would be well off…
    expect(Math.abs(estimate - truth)).toBeLessThan(0.02); // …the calibrated one is not
    // In-sample, isotonic regression keeps the mean: the estimate on the reference is its accuracy.
    expect(expectedAccuracy(cal, reference.p)).toBeCloseTo(cal.reference_accuracy, 10);
    expect(cal.reference_accuracy).toBe(mean(reference.correct));
    expect(cal.reference_rows).toBe(5_000);
  });

  it('platt: a logistic distortion is recovered, and isotonic agrees', () => {
    const g = (p: number) => sigmoid(0.5 * logit(p) - 0.3);
    const random = rng(23);
    const reference = sample(5_000, random, uniformTop, g);
    const platt = fitCalibration(reference.p, reference.correct, 'platt');
    if (platt.method !== 'platt') throw new Error('expected a Platt calibration');
    expect(Math.abs(platt.a - 0.5)).toBeLessThan(0.1);
    expect(Math.abs(platt.b + 0.3)).toBeLessThan(0.15);

    const fresh = sample(5_000, random, confidentTop, g);
    const truth = mean(fresh.p.map(g));
    expect(Math.abs(mean(fresh.p) - truth)).toBeGreaterThan(0.1);
    expect(Math.abs(expectedAccuracy(platt, fresh.p) - truth)).toBeLessThan(0.02);
    const isotonic = fitCalibration(reference.p, reference.correct, 'isotonic');
    expect(Math.abs(expectedAccuracy(isotonic, fresh.p) - truth)).toBeLessThan(0.02);
  });
});

describe('isotonic regression (pool-adjacent-violators)', () => {
  /** 50 rows at each probability, right `k` times, in a shuffled order. */
  function rows(groups: [p: number, right: number][]) {
    const all = groups.flatMap(([p, right]) =>
      Array.from({ length: 50 }, (_, i) => ({ p, ok: (i < right ? 1 : 0) as 0 | 1 })),
    );
    const random = rng(5);
    all.sort(() => random() - 0.5);
    return { p: all.map((r) => r.p), correct: all.map((r) => r.ok) };
  }

  it('pools ties, then pools adjacent violators, and interpolates between blocks', () => {
    const { p, correct } = rows([
      [0.6, 25],
      [0.7, 15], // 0.3 after 0.5: a violator, pooled with 0.6 into 0.4
      [0.8, 45],
    ]);
    const cal = fitCalibration(p, correct, 'isotonic', { priorRows: 0 });
    expect(cal).toEqual({
      method: 'isotonic',
      reference_rows: 150,
      reference_accuracy: 85 / 150,
      x: [0.6, 0.7, 0.8],
      y: [0.4, 0.4, 0.9],
    });
    expect(calibrate(cal, 0.65)).toBeCloseTo(0.4, 12);
    expect(calibrate(cal, 0.75)).toBeCloseTo(0.65, 12);
    expect([calibrate(cal, 0.5), calibrate(cal, 0.99), calibrate(cal, 1.0000001)]).toEqual([0.4, 0.9, 0.9]);
    expect(expectedAccuracy(cal, p)).toBeCloseTo(85 / 150, 12);
    // Plain JSON: what is stored is what calibrates.
    const copy = JSON.parse(JSON.stringify(cal)) as Calibration;
    for (const q of [0.55, 0.62, 0.7, 0.77, 0.93]) expect(calibrate(copy, q)).toBe(calibrate(cal, q));
  });

  it('equal means merge into one block, so a flat run keeps only its two ends', () => {
    const { p, correct } = rows([
      [0.6, 20],
      [0.7, 20],
      [0.8, 20],
      [0.9, 40],
    ]);
    const cal = fitCalibration(p, correct, 'isotonic', { priorRows: 0 });
    expect(cal).toMatchObject({ x: [0.6, 0.8, 0.9], y: [0.4, 0.4, 0.8] });
  });

  it('all right: 1 everywhere; one distinct probability: its accuracy everywhere', () => {
    const random = rng(3);
    const p = Array.from({ length: 200 }, () => 0.5 + 0.5 * random());
    const allRight = fitCalibration(
      p,
      p.map(() => true),
      'isotonic',
      { priorRows: 0 },
    );
    expect(allRight).toMatchObject({ method: 'isotonic', reference_accuracy: 1, y: [1, 1] });
    expect(expectedAccuracy(allRight, [0.5, 0.7, 0.99])).toBe(1);
    const constant = fitCalibration(
      Array(300).fill(0.7),
      Array.from({ length: 300 }, (_, i) => i % 5 < 3),
      'isotonic',
      { priorRows: 0 },
    );
    expect(constant).toMatchObject({ x: [0.7], y: [0.6] });
    expect([calibrate(constant, 0.5), calibrate(constant, 0.95)]).toEqual([0.6, 0.6]);
  });
});

describe('tiny references and bad input', () => {
  it(`below ${MIN_ISOTONIC_ROWS} rows isotonic falls back to Platt, whose smoothed targets avoid 0 and 1`, () => {
    const allRight = fitCalibration([0.6, 0.7, 0.8, 0.9, 0.95], [1, 1, 1, 1, 1], 'isotonic');
    expect(allRight.method).toBe('platt');
    expect(allRight.reference_accuracy).toBe(1);
    for (const q of [0.55, 0.75, 0.99]) expect(calibrate(allRight, q)).toBeCloseTo(6 / 7, 6); // (N₊ + 1) / (N₊ + 2)

    const random = rng(9);
    const { p, correct } = sample(MIN_ISOTONIC_ROWS - 1, random, uniformTop, (v) => v);
    const small = fitCalibration(p, correct, 'isotonic');
    expect(small.method).toBe('platt');
    const curve = [0.5, 0.6, 0.7, 0.8, 0.9, 0.99].map((q) => calibrate(small, q));
    for (let i = 1; i < curve.length; i++) expect(curve[i]!).toBeGreaterThanOrEqual(curve[i - 1]!);
    for (const v of curve) expect(v > 0 && v < 1).toBe(true);
    expect(fitCalibration([...p, 0.7], [...correct, 1], 'isotonic').method).toBe('isotonic');

    const constant = fitCalibration([0.8, 0.8, 0.8, 0.8], [1, 0, 1, 1], 'platt');
    expect(constant).toMatchObject({ method: 'platt', a: 0 });
    expect(calibrate(constant, 0.55)).toBeCloseTo((3 * (4 / 5) + 1 / 3) / 4, 12); // mean of the smoothed targets
  });

  it('refuses what it cannot fit or calibrate', () => {
    expect(() => fitCalibration([], [], 'isotonic')).toThrow('no reference rows');
    expect(() => fitCalibration([0.5, 0.6], [1], 'platt')).toThrow('2 probabilities but 1 correctness flags');
    expect(() => fitCalibration([0.5, Number.NaN], [1, 0], 'platt')).toThrow('probability NaN at row 1');
    expect(() => fitCalibration([0.5, 1.5], [1, 0], 'platt')).toThrow('probability 1.5 at row 1 is not in [0, 1]');
    expect(() => fitCalibration([0.5], [1], 'beta' as 'platt')).toThrow('unknown method "beta"');
    const cal = fitCalibration([0.6, 0.9], [0, 1], 'platt');
    expect(() => calibrate(cal, Number.NaN)).toThrow('not a finite number');
    expect(() => expectedAccuracy(cal, [])).toThrow('no predictions');
  });
});

describe('isotonic pulled toward the model’s own confidence where the reference is thin', () => {
  it('a region with a few wrong rows does not claim 0 % accuracy; a dense region keeps its hit rate', () => {
    // 2,000 rows at 0.99 (99 % right) and 3 wrong rows at 0.6: plain isotonic says 0 for anything near 0.6
    const p = [...Array(2_000).fill(0.99), 0.6, 0.6, 0.6];
    const correct = [...Array.from({ length: 2_000 }, (_, i) => i % 100 !== 0), false, false, false];
    const plain = fitCalibration(p, correct, 'isotonic', { priorRows: 0 });
    const pulled = fitCalibration(p, correct, 'isotonic');
    expect(calibrate(plain, 0.6)).toBe(0);
    expect(calibrate(pulled, 0.6)).toBeCloseTo((0 + ISOTONIC_PRIOR_ROWS * 0.6) / (3 + ISOTONIC_PRIOR_ROWS), 10);
    expect(calibrate(pulled, 0.99)).toBeCloseTo(
      (1_980 + ISOTONIC_PRIOR_ROWS * 0.99) / (2_000 + ISOTONIC_PRIOR_ROWS),
      10,
    );
    expect(Math.abs(calibrate(pulled, 0.99) - 0.99)).toBeLessThan(1e-3);
  });
});
