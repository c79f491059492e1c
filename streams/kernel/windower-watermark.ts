import type { StreamRecord } from './record.ts';

/**
 * The event-time clock of a stream read from several partitions: the newest event time of its *slowest* partition,
 * minus the allowed lateness (as Flink and Kafka Streams combine input watermarks).
 *
 * Taking the newest time seen anywhere instead would make results depend on how partitions interleave: a
 * consumer that happens to read partition 0 ahead of partition 1 would close windows before partition 1's records
 * for them arrive. With the slowest partition, a stream whose partitions are each in event-time order has no late
 * records whatever the interleaving, so a live run and an event-time-ordered replay give the same windows.
 *
 * The clock only knows partitions it has seen: one whose first record arrives after the others have passed that
 * time finds those windows closed (a single-partition topic, or lateness covering the start-up skew, avoids it).
 * A partition that stops sending holds the clock back; `forgetIdle` drops partitions that have been quiet for a
 * while (wall clock), and the end of input flushes everything anyway.
 */
export class StreamWatermark {
  private readonly newest = new Map<string, { time: number; arrival: number }>();
  private floor = -Infinity;

  constructor(private readonly latenessMs = 0) {}

  /** Counts a record's event time for its partition; returns the watermark after it. */
  observe(record: Pick<StreamRecord<unknown>, 'position' | 'eventTime'>, now = 0): number {
    const id = `${record.position.topic}\u0000${record.position.partition}`;
    const seen = this.newest.get(id);
    if (!seen) this.newest.set(id, { time: record.eventTime, arrival: now });
    else {
      if (record.eventTime > seen.time) seen.time = record.eventTime;
      seen.arrival = now;
    }
    return this.value;
  }

  /** −Infinity until a record has been seen. Never goes backwards. */
  get value(): number {
    let slowest = Infinity;
    for (const { time } of this.newest.values()) if (time < slowest) slowest = time;
    const wm = slowest === Infinity ? -Infinity : slowest - this.latenessMs;
    if (wm > this.floor) this.floor = wm;
    return this.floor;
  }

  /** Raises the watermark to at least `time` (after windows were force-closed, e.g. on idleness). */
  advanceTo(time: number): void {
    if (time > this.floor) this.floor = time;
  }

  /**
   * Stops waiting for partitions that received nothing for `idleMs` (wall clock); they rejoin with their next record.
   */
  forgetIdle(now: number, idleMs: number): void {
    for (const [id, seen] of this.newest) if (now - seen.arrival >= idleMs) this.newest.delete(id);
  }
}
