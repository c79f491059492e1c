import type { Admin } from 'kafkajs';
import type { ConsumerOptions, PartitionBatch, TopicPartition } from '../../streams/kernel/transport/transport.ts';

/** Key of a topic-partition in the assignment and position maps. */
const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

const fromKey = (id: string): TopicPartition => ({
  topic: id.split('\u0000')[0]!,
  partition: Number(id.split('\u0000')[1]),
});

/**
 * The part of a batch at or after `position`, or null when none is. After kafkajs restarts a consumer (a broker
 * restart) it fetches again from the last commit: the records this process already holds are in flight in the
 * pipeline, not lost, and would count twice.
 */
function unseenPart(batch: PartitionBatch, position: number): PartitionBatch | null {
  if (batch.messages[0]!.offset >= position) return batch;
  const fresh = batch.messages.filter((m) => m.offset >= position);
  return fresh.length === 0 ? null : { ...batch, messages: fresh };
}

/**
 * The partitions one group member holds and how far it has read each: what a rebalance takes away, what was already
 * handed to the pipeline, and whether everything up to the ends has been.
 */
export class ConsumerAssignment {
  /** True once the group has assigned this member its partitions (possibly none). */
  joined = false;
  private assigned = new Set<string>();
  /** Next offset to read per partition, as far as batches handed to the pipeline go. */
  private readonly positions = new Map<string, number>();
  /**
   * Where fetches got past records the pipeline never sees: transaction markers and aborted records at the end of
   * a topic written with transactions (e.g. by an --exactly-once run). Only "read to the end" looks at it.
   */
  private readonly pastMarkers = new Map<string, number>();

  /** Takes the group's new assignment; returns the partitions taken away, whose read state is dropped. */
  join(memberAssignment: Record<string, number[]>): TopicPartition[] {
    const next = new Set<string>();
    for (const [topic, parts] of Object.entries(memberAssignment)) for (const p of parts) next.add(tpKey(topic, p));
    const revoked: TopicPartition[] = [];
    for (const id of this.assigned) {
      if (next.has(id)) continue;
      revoked.push(fromKey(id));
      this.positions.delete(id);
      this.pastMarkers.delete(id);
    }
    this.assigned = next;
    this.joined = true;
    return revoked;
  }

  holds(topic: string, partition: number): boolean {
    return this.assigned.has(tpKey(topic, partition));
  }

  partitions(): TopicPartition[] {
    return [...this.assigned].map(fromKey);
  }

  /** Fetches of the partition got up to `nextOffset`, markers and aborted records included. */
  passed(topic: string, partition: number, nextOffset: number): void {
    this.pastMarkers.set(tpKey(topic, partition), nextOffset);
  }

  /** The part of a fetched batch to hand to the pipeline, now counted as read; null when there is none. */
  take(batch: PartitionBatch): PartitionBatch | null {
    const id = tpKey(batch.topic, batch.partition);
    // Batches fetched before a rebalance took the partition away belong to its new owner now.
    if (!this.assigned.has(id)) return null;
    const fresh = unseenPart(batch, this.positions.get(id) ?? -1);
    if (!fresh) return null;
    this.positions.set(id, fresh.messages[fresh.messages.length - 1]!.offset + 1);
    return fresh;
  }

  /** True when every partition this member holds has been read (handed to the pipeline) up to its end offset. */
  async readToEnd(admin: Admin, options: ConsumerOptions): Promise<boolean> {
    const assigned = this.assigned; // the assignment as of the call, should a rebalance replace it meanwhile
    for (const topic of options.topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const committed = (await admin.fetchOffsets({ groupId: options.group, topics: [topic] }))[0]?.partitions ?? [];
      let mine = [...assigned]
        .map(fromKey)
        .filter((tp) => tp.topic === topic)
        .map((tp) => tp.partition);
      // With nothing assigned (more members than partitions, or a rebalance still handing them to a member that
      // died), this member is done only once the group as a whole has committed everything.
      if (mine.length === 0) mine = ends.map((e) => e.partition);
      if (mine.length === 0) return false;
      for (const p of mine) {
        const offsets = ends.find((e) => e.partition === p);
        // kafkajs sometimes answers before it has the topic's metadata: unknown is not "done"
        if (!offsets) return false;
        const committedOffset = Number(committed.find((c) => c.partition === p)?.offset ?? -1);
        const position =
          this.positions.get(tpKey(topic, p)) ?? (committedOffset >= 0 ? committedOffset : Number(offsets.low));
        if (Math.max(position, this.pastMarkers.get(tpKey(topic, p)) ?? -1) < Number(offsets.high)) return false;
      }
    }
    return true;
  }
}
