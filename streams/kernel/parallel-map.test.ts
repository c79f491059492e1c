import { afterAll, describe, expect, it } from 'vitest';
import { ArraySink } from './memory/array-sink.ts';
import { MemoryTransport } from './memory/memory-log.ts';
import { topicSource } from './transport/topic-source.ts';
import { AckToken } from './ack.ts';
import { parallelMap, type ParallelMapStage } from './parallel-map.ts';
import { Pipeline } from './pipeline.ts';
import type { DeadLetter, StreamRecord } from './record.ts';
import { runPipeline } from './runner.ts';
import type { Batch, StageOutput } from './stage.ts';

const FIXTURE = new URL('./parallel-map-fixture.ts', import.meta.url);
const stages: ParallelMapStage<unknown, unknown>[] = [];
afterAll(() => Promise.all(stages.map((s) => s.close())));

function stage<I, O>(exportName: string, threads: number): ParallelMapStage<I, O> {
  const s = parallelMap<I, O>(`square-${threads}`, { module: FIXTURE, exportName, threads });
  stages.push(s as ParallelMapStage<unknown, unknown>);
  return s;
}

/** Runs numbers 0..n-1 over two partitions through `squareEven`; returns what reached the sinks and the commits. */
async function run(threads: number, n: number) {
  const transport = new MemoryTransport();
  await transport.ensureTopic('numbers', 2);
  const producer = await transport.producer();
  await producer.send(
    'numbers',
    Array.from({ length: n }, (_, i) => ({ key: `k${i % 7}`, value: Buffer.from(String(i)), timestamp: i })),
  );
  const deadLetters = new ArraySink<DeadLetter>('dead-letters');
  const p = new Pipeline(`parallel-map-${threads}`).deadLetters(deadLetters);
  const out = new ArraySink<{ n: number; square: number }>('out');
  p.from(topicSource(transport, { topics: ['numbers'], group: 'g', partitions: 2, maxBatchRecords: 50 }))
    .map('parse', (b) => Number(b.toString()))
    .through(stage<number, number>('squareEven', threads))
    .map('pair', (square) => ({ n: Math.sqrt(square), square }))
    .to(out);
  const committed = new Map<number, number>();
  await runPipeline(p, {
    untilIdle: true,
    onCommit: (o) =>
      o.forEach((x) => {
        committed.set(x.partition, x.offset);
      }),
  });
  return { out: out.records, deadLetters: deadLetters.values, committed };
}

describe('parallelMap', () => {
  for (const threads of [0, 2]) {
    it(`keeps each partition's order, dead-letters what throws, commits each offset (${threads} threads)`, async () => {
      const { out, deadLetters, committed } = await run(threads, 1_000);
      expect(out.map((r) => r.value.square)).toEqual(out.map((r) => r.value.n * r.value.n));
      for (const partition of [0, 1]) {
        const offsets = out.filter((r) => r.position.partition === partition).map((r) => r.position.offset);
        expect(offsets.length).toBeGreaterThan(100);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      }
      expect(out.map((r) => r.value.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i * 2));
      expect(deadLetters).toHaveLength(500);
      expect(
        deadLetters.every((d) => d.stage === `square-${threads}` && d.error === `odd value ${d.original.toString()}`),
      ).toBe(true);
      expect((committed.get(0) ?? 0) + (committed.get(1) ?? 0)).toBe(1_000);
    });
  }

  it('passes each acknowledgement token on once, and returns binary results', async () => {
    let done = 0;
    const token = new AckToken('t', 0, 3, () => done++, 3);
    const records: StreamRecord<Uint8Array>[] = [1, 2, 3].map((i) => ({
      key: null,
      value: Uint8Array.of(i, i + 1, i + 2),
      eventTime: i,
      headers: {},
      position: { topic: 't', partition: 0, offset: i },
    }));
    const emitted: Batch<Uint8Array>[] = [];
    const out: StageOutput<Uint8Array> = { emit: (b) => emitted.push(b), emitSide: () => {}, deadLetter: () => {} };
    await stage<Uint8Array, Uint8Array>('reversedBytes', 2).onBatch({ records, tokens: [token] }, out);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]!.records.map((r) => [...r.value])).toEqual([
      [3, 2, 1],
      [4, 3, 2],
      [5, 4, 3],
    ]);
    expect(emitted[0]!.tokens).toEqual([token]);
    token.release();
    expect(done).toBe(1);
    expect(() => token.release()).toThrow(/released too often/);
  });
});
