import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryTransport } from '../../streams/kernel/memory/memory-log.ts';
import { inEventTimeOrder } from '../../connectors/replay/event-time-order.ts';
import { readRecordedTopics } from '../../connectors/replay/recorded-topic.ts';
import type { ConsumedMessage } from '../../streams/kernel/transport/transport.ts';
import { tempHome } from './replay-helpers.ts';

/** A small deterministic PRNG, so a failure can be reproduced. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Messages of two topics of three partitions, each in offset order, with many equal timestamps, in uneven batches. */
function interleaved(count: number, seed: number): ConsumedMessage[][] {
  const rand = random(seed);
  const nextOffset = new Map<string, number>();
  const all: ConsumedMessage[] = [];
  for (let i = 0; i < count; i++) {
    const topic = rand() < 0.5 ? 'a' : 'b';
    const partition = Math.floor(rand() * 3);
    const offset = nextOffset.get(`${topic}/${partition}`) ?? 0;
    nextOffset.set(`${topic}/${partition}`, offset + 1);
    const timestamp = 1_700_000_000_000 + Math.floor(rand() * 50) * 1000;
    all.push({
      topic,
      partition,
      offset,
      key: `k${i % 7}`,
      value: Buffer.from(`value ${topic}/${partition}/${offset}`),
      timestamp,
      headers: { n: String(i) },
    });
  }
  const batches: ConsumedMessage[][] = [];
  for (let i = 0; i < all.length; ) {
    const size = 1 + Math.floor(rand() * 40);
    batches.push(all.slice(i, i + size));
    i += size;
  }
  return batches;
}

async function* from<T>(batches: T[][]) {
  for (const b of batches) yield b;
}

const expectedOrder = (batches: ConsumedMessage[][]) =>
  batches
    .flat()
    .sort(
      (a, b) =>
        a.timestamp - b.timestamp || a.topic.localeCompare(b.topic) || a.partition - b.partition || a.offset - b.offset,
    );

const summary = (m: ConsumedMessage) => ({
  ts: m.timestamp,
  t: m.topic,
  p: m.partition,
  o: m.offset,
  key: m.key,
  value: m.value.toString(),
  headers: m.headers,
});

describe('inEventTimeOrder', () => {
  it('orders by event time, then topic, partition and offset, in memory', async () => {
    const input = interleaved(2_000, 1);
    const out: ConsumedMessage[] = [];
    for await (const batch of inEventTimeOrder(from(input), { spillDir: join(tempHome('sort'), 'spill') }))
      out.push(...batch);
    expect(out.map(summary)).toEqual(expectedOrder(input).map(summary));
  });

  it('gives the same order when the input spills to disk in many sorted runs, and removes them after', async () => {
    const input = interleaved(5_000, 2);
    const spillDir = join(tempHome('spill'), 'spill');
    const out: ConsumedMessage[] = [];
    let spilledWhileReading = false;
    for await (const batch of inEventTimeOrder(from(input), {
      spillDir,
      maxBufferedBytes: 20_000,
      batchRecords: 300,
    })) {
      spilledWhileReading ||= existsSync(join(spillDir, 'run-10'));
      out.push(...batch);
    }
    expect(spilledWhileReading).toBe(true);
    expect(out.map(summary)).toEqual(expectedOrder(input).map(summary));
    expect(existsSync(spillDir)).toBe(false);
  });
});

describe('readRecordedTopics on a transport without offsetsForTime', () => {
  it("reads each topic's partitions from the start, keeps from ≤ t < to, leaves the live group alone", async () => {
    const transport = new MemoryTransport();
    const sent = new Map<string, number[]>();
    const producer = await transport.producer();
    for (const [topic, partitions, count] of [
      ['in', 3, 300],
      ['labels', 1, 40],
    ] as const) {
      await transport.ensureTopic(topic, partitions);
      const timestamps = Array.from({ length: count }, (_, i) => 1_000 + ((i * 37) % 300));
      await producer.send(
        topic,
        timestamps.map((timestamp, i) => ({ key: `k${i}`, value: Buffer.from(String(i)), timestamp })),
      );
      sent.set(topic, timestamps);
    }
    const live = await transport.consumer({ group: 'live', topics: ['in'] });
    await live.commit([{ topic: 'in', partition: 0, offset: 5 }]);

    const read: ConsumedMessage[] = [];
    for await (const batch of readRecordedTopics(
      transport,
      ['in', 'labels'],
      { from: 1_100, to: 1_200 },
      'replay-test',
    ))
      read.push(...batch);
    const numeric = (a: number, b: number) => a - b;
    for (const [topic, timestamps] of sent) {
      const got = read.filter((m) => m.topic === topic).map((m) => m.timestamp);
      expect(got.sort(numeric), topic).toEqual(timestamps.filter((t) => t >= 1_100 && t < 1_200).sort(numeric));
    }

    // The live group resumes where it committed, not where the replay read to.
    const again = await transport.consumer({ group: 'live', topics: ['in'] });
    const batches = await again.poll(0);
    expect(batches.find((b) => b.partition === 0)?.messages[0]?.offset).toBe(5);
  });
});
