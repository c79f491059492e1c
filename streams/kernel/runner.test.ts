import { describe, expect, it } from 'vitest';
import { deadLetterTopicSink } from './transport/dead-letter-topic-sink.ts';
import { ArraySink } from './memory/array-sink.ts';
import { MemoryTransport } from './memory/memory-log.ts';
import { topicSource } from './transport/topic-source.ts';
import { decodeJson } from './operators/basic/decode-json.ts';
import { Pipeline } from './pipeline.ts';
import type { DeadLetter, StreamRecord } from './record.ts';
import { runPipeline } from './runner.ts';
import type { Sink } from './sink.ts';

async function topicWith(values: Buffer[], partitions = 2) {
  const transport = new MemoryTransport();
  await transport.ensureTopic('in', partitions);
  const producer = await transport.producer();
  await producer.send(
    'in',
    values.map((value, i) => ({ key: `k${i}`, value, timestamp: 1_000 + i })),
  );
  return transport;
}

const numbers = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(JSON.stringify({ n: i })));

describe('runtime', () => {
  it('commits only what every sink acknowledged: a failed sink loses nothing across a restart', async () => {
    const transport = await topicWith(numbers(5_000));
    const delivered = new Set<number>();
    let writes = 0;
    const flaky: Sink<{ n: number }> = {
      name: 'flaky',
      async write(records: StreamRecord<{ n: number }>[]) {
        if (++writes === 3) throw new Error('disk full');
        for (const r of records) delivered.add(r.value.n);
      },
    };
    const build = (sink: Sink<{ n: number }>) => {
      const p = new Pipeline('ack-test');
      p.from(topicSource(transport, { topic: 'in', group: 'g', maxBatchRecords: 500 }))
        .through(decodeJson<{ n: number }>('decode'))
        .to(sink);
      return p;
    };
    const committed = new Map<number, number>();
    await expect(
      runPipeline(build(flaky), {
        untilIdle: true,
        commitIntervalMs: 5,
        onCommit: (o) =>
          o.forEach((x) => {
            committed.set(x.partition, x.offset);
          }),
      }),
    ).rejects.toThrow('disk full');
    // Committed offsets never run ahead of what the sink acknowledged before it failed.
    const acknowledgedBeforeFailure = delivered.size;
    expect(acknowledgedBeforeFailure).toBeLessThan(5_000);
    expect([...committed.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(acknowledgedBeforeFailure);

    // The restarted pipeline resumes from the last commit; every record arrives at least once.
    const healthy = new ArraySink<{ n: number }>('healthy');
    await runPipeline(build(healthy), { untilIdle: true });
    for (const v of healthy.values) delivered.add(v.n);
    expect(delivered.size).toBe(5_000);
  });

  it('routes malformed records to the dead-letter topic with reason and original bytes, and keeps going', async () => {
    const bad = [
      Buffer.from([0xff, 0xfe, 0x00]),
      Buffer.from('{"n": 1'),
      Buffer.alloc(2 * 1024 * 1024, 0x20),
      Buffer.from('{"n":"x"}'),
    ];
    const transport = await topicWith([...numbers(100), ...bad, ...numbers(50)], 1);
    const sink = new ArraySink<{ n: number }>('numbers');
    const p = new Pipeline('dlq-test').deadLetters(deadLetterTopicSink(transport));
    p.from(topicSource(transport, { topic: 'in', group: 'g' }))
      .through(
        decodeJson('decode', {
          validate: (v) => {
            const n = (v as { n?: unknown }).n;
            if (typeof n !== 'number') throw new Error(`field "n" must be a number, got ${typeof n}`);
            return { n };
          },
        }),
      )
      .to(sink);
    const result = await runPipeline(p, { untilIdle: true });
    expect(sink.values.length).toBe(150);
    expect(result.deadLetters).toBe(4);

    const dlq = await transport.consumer({ group: 'inspect', topics: ['in.dlq'] });
    const letters = (await dlq.poll(100)).flatMap((b) => b.messages);
    expect(letters.map((m) => m.headers?.['dlq.error'])).toEqual([
      'value is not valid UTF-8',
      expect.stringMatching(/^value is not valid JSON/),
      'value is 2097152 bytes, above the 1048576-byte limit',
      'field "n" must be a number, got string',
    ]);
    letters.forEach((m, i) => {
      expect(m.value.equals(bad[i]!)).toBe(true);
      expect(m.headers?.['dlq.stage']).toBe('decode');
      expect(m.headers?.['dlq.offset']).toBe(String(100 + i));
    });
  });

  it('dead-letters records a sink rejects, counts them, commits past them once the dead letter is stored', async () => {
    const transport = await topicWith(numbers(100), 1);
    const stored: number[] = [];
    /** Stores every number but those ending in 3, which it hands back to the runtime as rejected. */
    const picky: Sink<{ n: number }> = {
      name: 'picky',
      async write(records, reject) {
        for (const r of records) {
          if (r.value.n % 10 === 3) reject!(r, `n ${r.value.n} ends in 3`);
          else stored.push(r.value.n);
        }
      },
    };
    const build = (deadLetters: Sink<DeadLetter>) => {
      const p = new Pipeline('reject-test').deadLetters(deadLetters);
      p.from(topicSource(transport, { topic: 'in', group: 'g', maxBatchRecords: 10 }))
        .through(decodeJson<{ n: number }>('decode'))
        .to(picky);
      return p;
    };
    const committed = new Map<number, number>();
    const onCommit = (o: { partition: number; offset: number }[]) =>
      o.forEach((x) => {
        committed.set(x.partition, x.offset);
      });
    // The dead-letter sink is down: the rejected records' offsets must not be committed.
    const down: Sink<DeadLetter> = { name: 'dlq-down', write: async () => Promise.reject(new Error('dlq down')) };
    await expect(runPipeline(build(down), { untilIdle: true, commitIntervalMs: 5, onCommit })).rejects.toThrow(
      'dlq down',
    );
    expect(committed.get(0) ?? 0).toBe(0); // offset 3 sits in the first batch of 10: nothing may be committed

    stored.length = 0;
    const result = await runPipeline(build(deadLetterTopicSink(transport)), { untilIdle: true, onCommit });
    expect(stored).toHaveLength(90);
    expect(result.deadLetters).toBe(10);
    expect(result.metrics.find((m) => m.stage === 'picky')).toMatchObject({
      recordsIn: 100,
      recordsOut: 90,
      deadLetters: 10,
    });
    expect(committed.get(0)).toBe(100);
    const dlq = await transport.consumer({ group: 'inspect', topics: ['in.dlq'] });
    const letters = (await dlq.poll(100)).flatMap((b) => b.messages);
    expect(letters.map((m) => m.headers?.['dlq.error'])).toEqual(
      Array.from({ length: 10 }, (_, i) => `n ${i * 10 + 3} ends in 3`),
    );
    expect(letters.map((m) => m.headers?.['dlq.stage'])).toEqual(Array(10).fill('picky'));
    expect(letters.map((m) => m.value.toString())).toEqual(
      Array.from({ length: 10 }, (_, i) => JSON.stringify({ n: i * 10 + 3 })),
    );
  });

  it('branches records and acknowledges each branch independently', async () => {
    const transport = await topicWith(numbers(1_000));
    const even = new ArraySink<{ n: number }>('even');
    const odd = new ArraySink<{ n: number }>('odd');
    const p = new Pipeline('branch-test');
    const [evens, odds] = p
      .from(topicSource(transport, { topic: 'in', group: 'g', maxBatchRecords: 64 }))
      .through(decodeJson<{ n: number }>('decode'))
      .branch('parity', (v) => v.n % 2 === 0);
    evens!.to(even);
    odds!.to(odd);
    const committed = new Map<number, number>();
    await runPipeline(p, {
      untilIdle: true,
      onCommit: (o) =>
        o.forEach((x) => {
          committed.set(x.partition, x.offset);
        }),
    });
    expect(even.values.length).toBe(500);
    expect(odd.values.length).toBe(500);
    const total = [...committed.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(1_000);
  });
});
