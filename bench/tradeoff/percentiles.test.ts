import { describe, expect, it } from 'vitest';
import { percentile, summarizeLatencies } from './percentiles.ts';

describe('percentile (nearest rank)', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('takes the smallest value with at least p % of the sample at or below it', () => {
    expect(percentile(oneToHundred, 50)).toBe(50);
    expect(percentile(oneToHundred, 90)).toBe(90);
    expect(percentile(oneToHundred, 99)).toBe(99);
    expect(percentile(oneToHundred, 100)).toBe(100);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(percentile([3, 7], 50)).toBe(3);
    expect(percentile([42], 1)).toBe(42);
  });

  it('refuses an empty sample and a percentile outside (0, 100]', () => {
    expect(() => percentile([], 50)).toThrow(/empty/);
    expect(() => percentile([1], 0)).toThrow(/\(0, 100\]/);
    expect(() => percentile([1], 101)).toThrow(/\(0, 100\]/);
  });

  it('summarizes an unsorted sample', () => {
    const shuffled = [...oneToHundred].reverse();
    expect(summarizeLatencies(shuffled)).toEqual({ p50: 50, p90: 90, p99: 99, count: 100 });
    expect(summarizeLatencies([0.5, 0.1, 9, 0.2])).toEqual({ p50: 0.2, p90: 9, p99: 9, count: 4 });
  });
});
