import { describe, expect, it } from 'vitest';
import { MemoryTransport } from './memory/memory-log.ts';
import type { StreamRecord } from './record.ts';
import { jsonCodec, repartitionSink, repartitionSource } from './repartition.ts';

const record = (partition: number, offset: number, eventTime: number): StreamRecord<{ n: number }> => ({
  key: `k${partition}-${offset}`,
  value: { n: partition * 100 + offset },
  eventTime,
  headers: { h: 'x' },
  position: { topic: 'input', partition, offset },
});
const inputPartitions = [0, 1].map((partition) => ({ topic: 'input', partition }));

async function drain<T>(source: ReturnType<typeof repartitionSource<T>>) {
  const out: StreamRecord<T>[] = [];
  for (let i = 0; i < 5; i++) for (const b of await source.poll(0)) out.push(...b.records);
  return out;
}

describe('repartition topic', () => {
  it('hands records on in their input positions, once each, after every input partition was heard from', async () => {
    const log = new MemoryTransport();
    const codec = jsonCodec<{ n: number }>();
    const sink = repartitionSink(log, { topic: 'p-repartition', codec });
    const source = repartitionSource(log, { topic: 'p-repartition', group: 'g', codec, inputPartitions });

    await sink.write([record(0, 0, 1_000), record(0, 1, 2_000)]);
    expect(await drain(source)).toEqual([]); // partition 1 not heard from: its clock is unknown

    await sink.write([record(1, 0, 1_500), record(0, 1, 2_000)]); // (0, 1) again: redelivered after a crash
    const out = await drain(source);
    expect(out.map((r) => [r.position.partition, r.position.offset, r.eventTime, r.value.n])).toEqual([
      [0, 0, 1_000, 0],
      [0, 1, 2_000, 1],
      [1, 0, 1_500, 100],
    ]);
    expect(out[0]!.headers).toEqual({ h: 'x' });
    expect(out[0]!.key).toBe('k0-0');
    expect(await source.caughtUp()).toBe(true);
  });

  it('stops waiting for a silent input partition once the input is complete', async () => {
    const log = new MemoryTransport();
    const codec = jsonCodec<{ n: number }>();
    let complete = false;
    const sink = repartitionSink(log, { topic: 'q-repartition', codec });
    const source = repartitionSource(log, {
      topic: 'q-repartition',
      group: 'g',
      codec,
      inputPartitions,
      inputComplete: async () => complete,
    });
    await sink.write([record(0, 0, 1_000)]);
    expect(await drain(source)).toEqual([]);
    expect(await source.caughtUp()).toBe(false); // the input is not all in yet
    complete = true;
    expect(await source.caughtUp()).toBe(false); // …now it is: the held record goes first
    expect((await drain(source)).map((r) => r.value.n)).toEqual([0]);
    expect(await source.caughtUp()).toBe(true);
  });

  it('stops waiting for a silent input partition after the gate timeout', async () => {
    const log = new MemoryTransport();
    const codec = jsonCodec<{ n: number }>();
    const sink = repartitionSink(log, { topic: 'r-repartition', codec });
    const source = repartitionSource(log, {
      topic: 'r-repartition',
      group: 'g',
      codec,
      inputPartitions,
      gateTimeoutMs: 0,
    });
    await sink.write([record(1, 3, 1_000)]);
    expect((await drain(source)).map((r) => r.position.offset)).toEqual([3]);
  });
});
