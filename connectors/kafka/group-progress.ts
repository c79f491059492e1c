import type { Admin } from 'kafkajs';

/**
 * Whether a consumer group has committed every partition of `topics` up to the partition's end (an empty partition
 * counts as done): the whole group has processed all there is, whichever of its members read what. A group that
 * never committed a partition holding records is not done.
 */
export async function groupCommittedToEnd(admin: Admin, group: string, topics: string[]): Promise<boolean> {
  const committed = await admin.fetchOffsets({ groupId: group, topics });
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const offsets = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const end of ends) {
      const at = Number(offsets.find((p) => p.partition === end.partition)?.offset ?? -1);
      if (Number(end.high) > Number(end.low) && at < Number(end.high)) return false;
    }
  }
  return true;
}
