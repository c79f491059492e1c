import type { StreamRecord } from './record.ts';

/**
 * Where records end up. `write` resolves only once the records are durable: that is the acknowledgement that
 * lets the runtime commit source offsets. Sinks that prefer big writes say so with `batchRecords` and
 * `maxWaitMs`, and the runtime accumulates batches for them.
 */
export interface Sink<T> {
  readonly name: string;
  write(records: StreamRecord<T>[]): Promise<void>;
  /** Accumulate at least this many records per write (default: write each batch as it comes). */
  readonly batchRecords?: number;
  /** …but never hold records longer than this (default 1000 ms). */
  readonly maxWaitMs?: number;
  /** Writes that may be in flight at once (default 1). Acknowledgements may then complete out of order. */
  readonly concurrency?: number;
  close?(): Promise<void>;
}
