/**
 * Arrival times of the Server scenario: a Poisson process (exponential gaps with mean 1/rate), from a seeded
 * generator so every variant sees the same arrivals at the same rate.
 */
import { rng } from '../../models/seeded-random.ts';

/** Arrival offsets in ms from the start, ascending, for `durationMs` of a Poisson process at `ratePerS`. */
export function poissonArrivals(ratePerS: number, durationMs: number, seed: number): number[] {
  if (!(ratePerS > 0)) throw new Error(`arrival rate must be positive, got ${ratePerS}`);
  const random = rng(seed);
  const meanGapMs = 1000 / ratePerS;
  const arrivals: number[] = [];
  // 1 - random() is in (0, 1]: the log is finite.
  for (let t = -Math.log(1 - random()) * meanGapMs; t < durationMs; t += -Math.log(1 - random()) * meanGapMs)
    arrivals.push(t);
  return arrivals;
}
