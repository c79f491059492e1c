import { describe, expect, it } from 'vitest';
import type { StreamRecord } from '../../streams/kernel/record.ts';
import { type RollingFeatures, rollingFeatures } from './rolling-features.ts';

interface Reading {
  value: number;
}

const record = (key: string, value: number, i: number): StreamRecord<Reading> => ({
  key,
  value: { value },
  eventTime: i,
  headers: {},
  position: { topic: 't', partition: 0, offset: i },
});

/** The features from their definition: statistics of the key's previous `size` values. */
function bruteForce(values: number[], size: number): RollingFeatures[] {
  return values.map((x, i) => {
    const past = values.slice(Math.max(0, i - size), i);
    if (past.length === 0) return { count: 0, mean: null, std: null, zScore: null, change: null };
    const mean = past.reduce((a, b) => a + b, 0) / past.length;
    const std = past.length >= 2 ? Math.sqrt(past.reduce((a, b) => a + (b - mean) ** 2, 0) / (past.length - 1)) : null;
    return { count: past.length, mean, std, zScore: std ? (x - mean) / std : null, change: x - values[i - 1]! };
  });
}

/** Deterministic pseudo-random values (a linear congruential generator). */
function series(n: number, seed: number, scale: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return (s / 2 ** 31) * scale;
  });
}

function expectClose(actual: RollingFeatures[], expected: RollingFeatures[]) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect(a.count).toBe(e.count);
    for (const k of ['mean', 'std', 'zScore', 'change'] as const) {
      if (e[k] === null) expect(a[k], `${k} at ${i}`).toBeNull();
      else expect(a[k], `${k} at ${i}`).toBeCloseTo(e[k]!, 9);
    }
  });
}

describe('rolling features', () => {
  it('computes mean, std, z-score and change over each key’s previous events, keys interleaved', () => {
    const a = series(300, 1, 100);
    const b = series(300, 2, 10_000);
    const records = a.flatMap((x, i) => [record('a', x, 2 * i), record('b', b[i]!, 2 * i + 1)]);
    const out = rollingFeatures<Reading>({ size: 12, value: (r) => r.value })(records);
    expect(out.map((r) => r.value.value)).toEqual(records.map((r) => r.value.value));
    expect(out.map((r) => r.key)).toEqual(records.map((r) => r.key));
    expectClose(
      out.filter((r) => r.key === 'a').map((r) => r.value.rolling),
      bruteForce(a, 12),
    );
    expectClose(
      out.filter((r) => r.key === 'b').map((r) => r.value.rolling),
      bruteForce(b, 12),
    );
  });

  it('gives the same features whatever the batching', () => {
    const values = series(500, 3, 50);
    const records = values.map((x, i) => record(i % 3 === 0 ? 'x' : 'y', x, i));
    const whole = rollingFeatures<Reading>({ size: 20, value: (r) => r.value })(records);
    const fn = rollingFeatures<Reading>({ size: 20, value: (r) => r.value });
    const pieces = [];
    for (let i = 0; i < records.length; i += 7) pieces.push(...fn(records.slice(i, i + 7)));
    expect(pieces).toEqual(whole);
  });

  it('has no z-score for a constant history, and leaves a missing value out of the history', () => {
    const fn = rollingFeatures<Reading>({ size: 3, value: (r) => r.value });
    const [first, second, third, missing, after] = fn([5, 5, 5, Number.NaN, 8].map((x, i) => record('k', x, i))).map(
      (r) => r.value.rolling,
    );
    expect(first).toEqual({ count: 0, mean: null, std: null, zScore: null, change: null });
    expect(second).toEqual({ count: 1, mean: 5, std: null, zScore: null, change: 0 });
    expect(third).toEqual({ count: 2, mean: 5, std: 0, zScore: null, change: 0 });
    expect(missing).toEqual({ count: 0, mean: null, std: null, zScore: null, change: null });
    expect(after).toEqual({ count: 3, mean: 5, std: 0, zScore: null, change: 3 });
  });

  it('needs a size of at least 2 events', () => {
    expect(() => rollingFeatures<Reading>({ size: 1, value: (r) => r.value })).toThrow('size ≥ 2');
  });
});
