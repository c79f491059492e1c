import { describe, expect, it } from 'vitest';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import { mergeByEventTime } from './event-time-merge.ts';

/** An input yielding messages at these times, in batches of `size`, keyed by `key`. */
async function* input(key: string, times: number[], size = 2): AsyncGenerator<Message[]> {
  for (let i = 0; i < times.length; i += size)
    yield times.slice(i, i + size).map((t) => ({ key, value: Buffer.from(`${key}@${t}`), timestamp: t }));
  yield []; // an empty batch must not end the input
}

async function merged(inputs: AsyncIterable<Message[]>[], batchRecords?: number): Promise<Message[][]> {
  const out: Message[][] = [];
  for await (const batch of mergeByEventTime(inputs, batchRecords)) out.push(batch);
  return out;
}

describe('mergeByEventTime', () => {
  it('merges inputs in event time, equal times in input order, in batches of the size asked', async () => {
    const batches = await merged(
      [input('late-file', [30, 40, 50, 60]), input('early-file', [10, 20, 30, 70, 80]), input('empty', [])],
      4,
    );
    expect(batches.map((b) => b.length)).toEqual([4, 4, 1]);
    expect(batches.flat().map((m) => m.value.toString())).toEqual([
      'early-file@10',
      'early-file@20',
      'late-file@30',
      'early-file@30',
      'late-file@40',
      'late-file@50',
      'late-file@60',
      'early-file@70',
      'early-file@80',
    ]);
  });

  it('keeps a record out of order within its own input where it was (the merge never looks ahead)', async () => {
    const order = (await merged([input('a', [10, 50, 20]), input('b', [30])])).flat().map((m) => m.value.toString());
    expect(order).toEqual(['a@10', 'b@30', 'a@50', 'a@20']);
  });

  it('closes every input when the reader stops early', async () => {
    let closed = 0;
    const tracked = async function* (times: number[]) {
      try {
        yield* input('x', times);
      } finally {
        closed += 1;
      }
    };
    for await (const batch of mergeByEventTime([tracked([1, 2]), tracked([3, 4])], 1)) {
      expect(batch).toHaveLength(1);
      break;
    }
    expect(closed).toBe(2);
  });
});
