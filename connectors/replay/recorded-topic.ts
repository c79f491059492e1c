import type { ConsumedMessage, TimeOffsets, Transport } from '../../streams/kernel/transport/transport.ts';
import { type TimeRange, inRange } from './time-range.ts';

const id = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** The offsets of one partition to read. */
interface PartitionRange extends TimeOffsets {
  topic: string;
}

/**
 * The records of recorded topics within a time range, in arrival order (partitions interleaved; each message keeps
 * its topic, partition and offset). Reads with a throw-away consumer group that never commits, so the live group's
 * offsets are untouched. A topic that was never recorded contributes nothing.
 *
 * With `offsetsForTime` (Kafka) each partition starts at the first offset at or after `from` and stops at its end as
 * of the replay's start: records appended meanwhile are not replayed. A partition is not cut short at the first
 * record past `to`, because a partition need not be in time order; records past `to` are skipped.
 * Without it (embedded log, memory) the topics are read from the beginning until the reader has caught up, filtering
 * by time.
 */
export async function* readRecordedTopics(
  transport: Transport,
  topics: string[],
  range: TimeRange,
  group: string,
): AsyncGenerator<ConsumedMessage[]> {
  let bounds: Map<string, PartitionRange> | undefined;
  let recorded = topics;
  if (transport.offsetsForTime) {
    bounds = new Map();
    for (const topic of topics) {
      for (const b of await transport.offsetsForTime(topic, range.from ?? Number.NEGATIVE_INFINITY))
        bounds.set(id(topic, b.partition), { ...b, topic });
    }
    const ranges = [...bounds.values()];
    recorded = topics.filter((t) => ranges.some((b) => b.topic === t));
  }
  const position = new Map<string, number>([...(bounds ?? [])].map(([k, b]) => [k, b.offset]));
  const allRead = () => bounds !== undefined && [...bounds].every(([k, b]) => position.get(k)! >= b.end);
  if (recorded.length === 0 || allRead()) return;

  const consumer = await transport.consumer({
    group,
    topics: recorded,
    fromBeginning: true,
    maxBatchRecords: 5_000,
    startOffsets:
      bounds && [...bounds.values()].map((b) => ({ topic: b.topic, partition: b.partition, offset: b.offset })),
  });
  try {
    for (;;) {
      const batches = await consumer.poll(200);
      for (const batch of batches) {
        const key = id(batch.topic, batch.partition);
        const b = bounds?.get(key);
        if (bounds && !b) continue; // a partition added after the replay started
        const kept = batch.messages.filter(
          (m) => (!b || (m.offset >= b.offset && m.offset < b.end)) && inRange(range, m.timestamp),
        );
        const last = batch.messages[batch.messages.length - 1];
        if (b && last) position.set(key, Math.max(position.get(key)!, last.offset + 1));
        if (kept.length > 0) yield kept;
      }
      if (bounds ? allRead() : batches.length === 0 && (await consumer.caughtUp())) return;
    }
  } finally {
    await consumer.close();
  }
}
