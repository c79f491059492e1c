/** Latency percentiles as MLPerf reports them: nearest rank over the sorted sample (no interpolation). */

/**
 * The value at percentile `p` (0–100] of ascending `sorted`: the smallest value with at least p % of the sample at or
 * below it.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new Error('percentile of an empty sample');
  if (!(p > 0 && p <= 100)) throw new Error(`percentile must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)]!;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  count: number;
}

export function summarizeLatencies(latenciesMs: number[]): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    count: sorted.length,
  };
}
