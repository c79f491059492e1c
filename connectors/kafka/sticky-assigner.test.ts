import { AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { TopicPartition } from '../../streams/kernel/transport/transport.ts';
import { stickyAssigner } from './sticky-assigner.ts';

/** The assigner's view of a topic: its partition ids (what kafkajs' cluster metadata gives it). */
const cluster = (partitions: number) =>
  ({
    findTopicPartitionMetadata: () => Array.from({ length: partitions }, (_, partitionId) => ({ partitionId })),
  }) as never;

/** Members as the group leader sees them: each with the partitions it said it holds. */
async function assign(partitions: number, members: Record<string, number[]>) {
  const joined = Object.entries(members).map(([memberId, held]) => {
    const holds = held.map((partition): TopicPartition => ({ topic: 't', partition }));
    const assigner = stickyAssigner(() => holds)({ cluster: cluster(partitions), groupId: 'g', logger: {} as never });
    return { memberId, memberMetadata: assigner.protocol({ topics: ['t'] }).metadata };
  });
  const leader = stickyAssigner(() => [])({ cluster: cluster(partitions), groupId: 'g', logger: {} as never });
  const result = await leader.assign({ members: joined, topics: ['t'] });
  return Object.fromEntries(
    result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment.t ?? []]),
  );
}

describe('sticky assigner', () => {
  it('leaves a one-partition topic with its holder when others join, whatever the member ids', async () => {
    expect(await assign(1, { z: [0], a: [], m: [] })).toEqual({ a: [], m: [], z: [0] });
  });

  it('leaves it with its holder when another member leaves, and gives it to someone when the holder leaves', async () => {
    expect(await assign(1, { z: [0], m: [] })).toEqual({ m: [], z: [0] });
    expect((await assign(1, { a: [], m: [] })).a).toEqual([0]);
  });

  it('keeps at most an even share with a holder and spreads the rest', async () => {
    const six = await assign(6, { a: [0, 1, 2, 3, 4, 5], b: [], c: [] });
    expect(Object.values(six).map((p) => p.length)).toEqual([2, 2, 2]);
    expect(six.a).toEqual([0, 1]);
    expect([...six.a!, ...six.b!, ...six.c!].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
