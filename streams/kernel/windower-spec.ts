import type { StreamRecord } from './record.ts';

export type TimeWindowSpec = { type: 'tumbling'; sizeMs: number } | { type: 'hopping'; sizeMs: number; hopMs: number };
export type WindowSpec = TimeWindowSpec | { type: 'count'; count: number };

/** Where windows are kept and how their clock runs: what the windower (windower.ts) needs besides the aggregate. */
export interface WindowClockOptions {
  spec: WindowSpec;
  /**
   * How far behind the newest event time of a partition a record may arrive and still count. The partition's
   * watermark is `max event time − allowedLatenessMs`; a window closes (is emitted, once) when the watermark
   * reaches its end. Default 0.
   */
  allowedLatenessMs?: number;
  /**
   * 'partition' (default): windows and watermark per source partition, as Kafka Streams/Flink keep keyed state.
   * 'stream': one set of windows over every partition, with one watermark: the newest event time of the slowest
   * partition minus `allowedLatenessMs` (windower-watermark.ts), so how partitions interleave does not change the
   * windows — for statistics over the whole stream (drift, labelling budgets). With `idleTimeoutMs`, a partition
   * quiet for that long stops holding the watermark back. Its state is not
   * dropped on a rebalance (it may hold records of partitions this consumer keeps), so run a stream-scoped window
   * with one consumer per group, or on a single-partition topic, for exact results.
   */
  scope?: 'partition' | 'stream';
  /** Close every open window of a partition that has seen no record for this long (wall clock). */
  idleTimeoutMs?: number;
  /**
   * Whose event time closes a window. 'partition' (default): the scope's clock (the partition's, or the stream's),
   * so a key whose records lag behind others in the same partition finds its windows closed (late records).
   * 'key': each key keeps its own clock (its newest event time − `allowedLatenessMs`), as Quix Streams does, for
   * independent series interleaved in one partition; a key's window also closes once the scope's clock is
   * `maxKeyLagMs` past its end, so a key that goes quiet does not hold state for ever.
   */
  eventTime?: 'partition' | 'key';
  /**
   * With `eventTime: 'key'`: how far a key's windows may trail the scope's clock before they close. Default Infinity.
   */
  maxKeyLagMs?: number;
}

export interface WindowOptions<T, A, R = A> extends WindowClockOptions {
  init: () => A;
  add: (acc: A, value: T, record: StreamRecord<T>) => A;
  result?: (acc: A) => R;
}

/** One emitted window. For count windows, start/end span the event times of its records (end exclusive). */
export interface WindowResult<R> {
  key: string | null;
  start: number;
  end: number;
  count: number;
  value: R;
}

export function tumbling(sizeMs: number): TimeWindowSpec & { type: 'tumbling' } {
  if (!(sizeMs > 0)) throw new Error('tumbling window size must be > 0 ms');
  return { type: 'tumbling', sizeMs };
}

export function hopping(sizeMs: number, hopMs: number): TimeWindowSpec {
  if (!(sizeMs > 0) || !(hopMs > 0) || hopMs > sizeMs) throw new Error('hopping window needs 0 < hop <= size');
  return { type: 'hopping', sizeMs, hopMs };
}

export function countWindow(count: number): WindowSpec {
  if (!Number.isInteger(count) || count < 1) throw new Error('count window needs a positive integer count');
  return { type: 'count', count };
}

/** Start times of the event-time windows containing `t`, newest first. Tumbling is hopping with hop = size. */
export function windowStarts(spec: TimeWindowSpec, t: number): number[] {
  const hop = spec.type === 'tumbling' ? spec.sizeMs : spec.hopMs;
  const starts: number[] = [];
  for (let s = Math.floor(t / hop) * hop; s > t - spec.sizeMs; s -= hop) starts.push(s);
  return starts;
}
