import { LatencyHistogram } from './metrics.ts';
import type { StreamRecord } from './record.ts';

/**
 * Header a producer may set to the wall-clock time (epoch ms, decimal) it sent a record at; `driftline produce` does.
 * Message timestamps are event times here (a posting's date, a NAB reading), not arrival times, so latency needs
 * its own start.
 */
export const SENT_AT_HEADER = 'driftline.sent_at';

/** Where a record's end-to-end latency starts: its `driftline.sent_at` header, else when the source read it. */
export type LatencyStart = 'sent-or-read' | 'read';

/**
 * Start times of a source batch: one number when every record starts at the read time (replays, files, producers
 * without the header), else one per record. Kept with the batch's acknowledgement token until every sink is done.
 */
export function startTimes(
  records: readonly StreamRecord<unknown>[],
  readAt: number,
  start: LatencyStart,
): number | Float64Array {
  if (start === 'read') return readAt;
  let times: Float64Array | undefined;
  for (let i = 0; i < records.length; i++) {
    const sent = records[i]!.headers[SENT_AT_HEADER];
    if (sent === undefined) continue;
    const t = Number(sent);
    if (!Number.isFinite(t)) continue;
    times ??= new Float64Array(records.length).fill(readAt);
    times[i] = Math.min(t, readAt); // clocks of another machine may run ahead: never count negative latency
  }
  return times ?? readAt;
}

/**
 * End-to-end latency of a run: from each record's start time to the moment its own rows were acknowledged — the last
 * acknowledgement of its source batch by a record sink, i.e. a sink not behind a window (a stateful stage holds records
 * until event time closes the window: that wait is the window's, not the pipeline's). A batch that reaches no record
 * sink counts until all its references are released. Recorded once the batch is fully acknowledged.
 */
export class EndToEndLatency {
  readonly histogram = new LatencyHistogram();

  /** A source batch of `count` records whose last reference was released at `now`. */
  acknowledged(start: number | Float64Array, count: number, now: number): void {
    if (typeof start === 'number') {
      this.histogram.recordMany(Math.max(0, now - start), count);
      return;
    }
    for (let i = 0; i < start.length; i++) this.histogram.record(Math.max(0, now - start[i]!));
  }

  /** Median and 99th percentile in ms; null when nothing was acknowledged. */
  summary(): { p50Ms: number; p99Ms: number; count: number } | null {
    if (this.histogram.count === 0) return null;
    return { p50Ms: this.histogram.percentile(50), p99Ms: this.histogram.percentile(99), count: this.histogram.count };
  }
}
