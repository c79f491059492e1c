import type { StreamRecord } from './record.ts';

/** How long a sink that does not set `maxWaitMs` holds records: the one default (warehouse sinks use it too). */
export const DEFAULT_SINK_MAX_WAIT_MS = 1_000;

/** Hands one record a sink could not store, with the reason, to the pipeline's dead letters. */
export type RejectRecord = (record: StreamRecord<unknown>, reason: string) => void;

/**
 * Where records end up. `write` resolves only once the records are durable: that is the acknowledgement that
 * lets the runtime commit source offsets. Sinks that prefer big writes say so with `batchRecords` and
 * `maxWaitMs`, and the runtime accumulates batches for them.
 */
export interface Sink<T> {
  readonly name: string;
  /**
   * `reject`, given by the runtime, takes a record the sink could not store (a row the warehouse refuses) to the
   * pipeline's dead letters: counted, and its offset committed only once the dead letter is written too.
   */
  write(records: StreamRecord<T>[], reject?: RejectRecord): Promise<void>;
  /** Accumulate at least this many records per write (default: write each batch as it comes). */
  readonly batchRecords?: number;
  /** …but never hold records longer than this since the oldest arrived (default DEFAULT_SINK_MAX_WAIT_MS). */
  readonly maxWaitMs?: number;
  /** Writes that may be in flight at once (default 1). Acknowledgements may then complete out of order. */
  readonly concurrency?: number;
  close?(): Promise<void>;
}
