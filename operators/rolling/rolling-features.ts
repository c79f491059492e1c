/**
 * Rolling features per record key (e.g. per series): the mean and standard deviation of the value over the `size`
 * events of that key before this one, the value's z-score against them, and its change from the previous event.
 * Statistics exclude the current value, so the z-score says how unusual it is given the recent past.
 *
 * A non-finite value gets null features and is left out of the history.
 *
 * A plain function over batches for `stream.mapBatch(...)`; state is kept per key in memory (a series lives on one
 * partition, so its history stays in one place; a restart starts the history afresh).
 */
import { type StreamRecord, withValue } from '../../streams/kernel/record.ts';

export interface RollingFeatures {
  /** Previous values of this key the statistics are over (≤ size). */
  count: number;
  /** Mean of those values; null for a key's first event. */
  mean: number | null;
  /** Their sample standard deviation (n − 1); null with fewer than 2. */
  std: number | null;
  /** (value − mean) / std; null while std is unknown or 0. */
  zScore: number | null;
  /** value − previous value; null for a key's first event. */
  change: number | null;
}

export type WithRolling<T> = T & { rolling: RollingFeatures };

export interface RollingOptions<T> {
  /** How many previous events of a key the statistics cover. */
  size: number;
  value: (value: T) => number;
}

/** The last `size` values of one key, oldest overwritten first. */
interface History {
  values: Float64Array;
  filled: number;
  next: number;
  previous: number;
}

export function rollingFeatures<T extends object>(
  options: RollingOptions<T>,
): (records: StreamRecord<T>[]) => StreamRecord<WithRolling<T>>[] {
  const { size, value } = options;
  if (!Number.isInteger(size) || size < 2) throw new Error(`rolling features need a size ≥ 2 events, got ${size}`);
  const histories = new Map<string | null, History>();

  const featuresOf = (h: History | undefined, x: number): RollingFeatures => {
    if (!h) return { count: 0, mean: null, std: null, zScore: null, change: null };
    const n = h.filled;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += h.values[i]!;
    const mean = sum / n;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (h.values[i]! - mean) ** 2;
    const std = n >= 2 ? Math.sqrt(squares / (n - 1)) : null;
    return { count: n, mean, std, zScore: std ? (x - mean) / std : null, change: x - h.previous };
  };

  return (records) =>
    records.map((record) => {
      const x = value(record.value);
      let h = histories.get(record.key);
      // A missing value has no features and does not enter the history (it would poison the next `size` means).
      if (!Number.isFinite(x)) return withValue(record, { ...record.value, rolling: featuresOf(undefined, x) });
      const rolling = featuresOf(h, x);
      if (!h) {
        h = { values: new Float64Array(size), filled: 0, next: 0, previous: x };
        histories.set(record.key, h);
      }
      h.values[h.next] = x;
      h.next = (h.next + 1) % size;
      h.filled = Math.min(h.filled + 1, size);
      h.previous = x;
      return withValue(record, { ...record.value, rolling });
    });
}
