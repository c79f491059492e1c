import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import type { TopicPartition } from '../../streams/kernel/transport/transport.ts';

const NAME = 'DriftlineSticky';
const key = (topic: string, partition: number) => `${partition}:${topic}`;

/**
 * A partition assigner that leaves each partition with the member holding it, as long as that member stays in the
 * group and within an even share, and gives the rest to the least loaded members. Kafka's Java client calls this
 * sticky assignment; kafkajs ships only round-robin, which may move any partition whenever a member joins or leaves.
 * Groups whose members keep state per partition (the stream-wide stages behind a repartition topic) use it, so a
 * member joining or another one dying does not move that state. Each member says what it holds in its join metadata.
 */
export function stickyAssigner(held: () => TopicPartition[]): PartitionAssigner {
  return ({ cluster }) => ({
    name: NAME,
    version: 0,
    async assign({ members, topics }) {
      const ids = members.map((m) => m.memberId).sort();
      const claims = new Map<string, string>();
      for (const m of members)
        for (const tp of claimsOf(m.memberMetadata))
          if (!claims.has(key(tp.topic, tp.partition))) claims.set(key(tp.topic, tp.partition), m.memberId);
      const all = topics.flatMap((topic) =>
        cluster.findTopicPartitionMetadata(topic).map((p) => ({ topic, partition: p.partitionId })),
      );
      const share = Math.ceil(all.length / Math.max(1, ids.length));
      const owned = new Map<string, TopicPartition[]>(ids.map((id) => [id, []]));
      const unowned: TopicPartition[] = [];
      for (const tp of all) {
        const claimant = owned.get(claims.get(key(tp.topic, tp.partition)) ?? '');
        if (claimant && claimant.length < share) claimant.push(tp);
        else unowned.push(tp);
      }
      for (const tp of unowned) {
        const least = ids.reduce((best, id) => (owned.get(id)!.length < owned.get(best)!.length ? id : best), ids[0]!);
        owned.get(least)!.push(tp);
      }
      return ids.map((memberId) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: byTopic(owned.get(memberId)!),
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      const userData = Buffer.from(JSON.stringify(held()));
      return { name: NAME, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData }) };
    },
  });
}

/** The partitions a member said it holds when it joined; nothing if it said nothing readable. */
function claimsOf(metadata: Buffer): TopicPartition[] {
  try {
    const userData = AssignerProtocol.MemberMetadata.decode(metadata)?.userData;
    const parsed: unknown = userData && userData.length > 0 ? JSON.parse(userData.toString()) : [];
    return Array.isArray(parsed) ? (parsed as TopicPartition[]) : [];
  } catch {
    return [];
  }
}

function byTopic(partitions: TopicPartition[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const { topic, partition } of partitions) {
    out[topic] ??= [];
    out[topic].push(partition);
  }
  return out;
}
