/** Where a record came from: the coordinates that at-least-once commits and dead letters refer to. */
export interface SourcePosition {
  topic: string;
  partition: number;
  offset: number;
}

/** One record flowing through a pipeline. Operators change `value` (and maybe key/time); metadata travels along. */
export interface StreamRecord<V> {
  key: string | null;
  value: V;
  /** Event time, epoch milliseconds. */
  eventTime: number;
  headers: Record<string, string>;
  position: SourcePosition;
  /** The bytes the source read, kept so a dead letter can carry the original input. */
  raw?: Buffer;
}

/** A record that could not be parsed, validated or processed, with everything needed to replay it by hand. */
export interface DeadLetter {
  stage: string;
  error: string;
  position: SourcePosition;
  key: string | null;
  original: Buffer;
  eventTime: number;
  failedAt: number;
}

/**
 * Longest dead-letter reason stored (the `dead_letters` table, the `.dlq` topic's header): enough for any real error
 * message, small enough that no reason outgrows its row.
 */
export const MAX_REASON_CHARS = 2_000;

/** The same record with another value. Built field by field: one object shape, much cheaper than a spread. */
export function withValue<V, W>(record: StreamRecord<V>, value: W): StreamRecord<W> {
  return {
    key: record.key,
    value,
    eventTime: record.eventTime,
    headers: record.headers,
    position: record.position,
    raw: record.raw,
  };
}
