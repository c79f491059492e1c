import { describe, expect, it } from 'vitest';
import { poissonArrivals } from './poisson-schedule.ts';

describe('poissonArrivals', () => {
  it('is reproducible for a seed and differs between seeds', () => {
    expect(poissonArrivals(500, 1000, 7)).toEqual(poissonArrivals(500, 1000, 7));
    expect(poissonArrivals(500, 1000, 7)).not.toEqual(poissonArrivals(500, 1000, 8));
  });

  it('gives ascending arrivals inside the duration', () => {
    const arrivals = poissonArrivals(2000, 500, 1);
    expect(arrivals.length).toBeGreaterThan(0);
    expect(arrivals[0]).toBeGreaterThanOrEqual(0);
    expect(arrivals.at(-1)).toBeLessThan(500);
    for (let i = 1; i < arrivals.length; i++) expect(arrivals[i]).toBeGreaterThan(arrivals[i - 1]!);
  });

  it('has the rate asked for and exponential gaps (standard deviation ≈ mean)', () => {
    const arrivals = poissonArrivals(1000, 100_000, 3); // 100 s at 1000/s: ~100,000 arrivals
    expect(arrivals.length / 100).toBeGreaterThan(990);
    expect(arrivals.length / 100).toBeLessThan(1010);
    const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    expect(mean).toBeCloseTo(1, 1);
    expect(sd / mean).toBeGreaterThan(0.97);
    expect(sd / mean).toBeLessThan(1.03);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => poissonArrivals(0, 1000, 1)).toThrow(/positive/);
  });
});
