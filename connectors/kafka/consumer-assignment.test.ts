import { describe, expect, it } from 'vitest';
import type { PartitionBatch } from '../../streams/kernel/transport/transport.ts';
import { ConsumerAssignment } from './consumer-assignment.ts';

const batch = (topic: string, partition: number, offsets: number[]): PartitionBatch => ({
  topic,
  partition,
  messages: offsets.map((offset) => ({
    topic,
    partition,
    offset,
    key: null,
    value: Buffer.alloc(0),
    timestamp: 0,
    headers: {},
  })),
});
const offsetsOf = (b: PartitionBatch | null) => b?.messages.map((m) => m.offset) ?? null;

describe('ConsumerAssignment', () => {
  it('hands on only records past those already handed on (a consumer restarted by kafkajs fetches again)', () => {
    const assignment = new ConsumerAssignment();
    assignment.join({ t: [0] });
    expect(offsetsOf(assignment.take(batch('t', 0, [0, 1, 2])))).toEqual([0, 1, 2]);
    expect(assignment.take(batch('t', 0, [1, 2]))).toBeNull();
    expect(offsetsOf(assignment.take(batch('t', 0, [1, 2, 3, 4])))).toEqual([3, 4]);
  });

  it('drops batches of partitions it does not hold, and tells which partitions a rebalance took away', () => {
    const assignment = new ConsumerAssignment();
    expect(assignment.joined).toBe(false);
    expect(assignment.join({ t: [0, 1], u: [0] })).toEqual([]);
    expect(assignment.joined).toBe(true);
    expect(assignment.take(batch('t', 2, [0]))).toBeNull();
    assignment.take(batch('t', 1, [0, 1]));

    expect(assignment.join({ t: [0] })).toEqual([
      { topic: 't', partition: 1 },
      { topic: 'u', partition: 0 },
    ]);
    expect(assignment.partitions()).toEqual([{ topic: 't', partition: 0 }]);
    expect(assignment.holds('t', 1)).toBe(false);
    expect(assignment.take(batch('t', 1, [2]))).toBeNull();

    // Given back later, the partition starts afresh: what its other owner committed is where kafkajs fetches from.
    assignment.join({ t: [0, 1] });
    expect(offsetsOf(assignment.take(batch('t', 1, [0, 1])))).toEqual([0, 1]);
  });
});
