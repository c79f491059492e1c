import { describe, expect, it } from 'vitest';
import { ArraySink } from './memory/array-sink.ts';
import { MemoryTransport } from './memory/memory-log.ts';
import { topicSource } from './transport/topic-source.ts';
import { Pipeline } from './pipeline.ts';
import type { Batch, Stage } from './stage.ts';
import { runPipeline } from './runner.ts';

type Item = { kind: 'n'; n: number } | { kind: 'word'; word: string };

/** Records what it sees and, at end of input, how many it saw: proves it ended after both inputs did. */
function tally(seenAtEnd: number[]): Stage<Item, Item> {
  let seen = 0;
  return {
    name: 'tally',
    onBatch(batch: Batch<Item>, out) {
      seen += batch.records.length;
      out.emit(batch);
    },
    onEnd() {
      seenAtEnd.push(seen);
    },
  };
}

describe('Stream.merge', () => {
  it('feeds both streams of a pipeline into one stage, which ends once both end; all offsets committed', async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopic('numbers', 2);
    await transport.ensureTopic('words', 1);
    const producer = await transport.producer();
    await producer.send(
      'numbers',
      Array.from({ length: 1_000 }, (_, i) => ({ key: `n${i}`, value: Buffer.from(String(i)), timestamp: i })),
    );
    await producer.send(
      'words',
      ['alpha', 'beta', 'gamma'].map((w, i) => ({ key: w, value: Buffer.from(w), timestamp: i })),
    );

    const p = new Pipeline('merge-test');
    const [numbers, words, other] = p
      .from(topicSource(transport, { topics: ['numbers', 'words'], group: 'g', partitions: 2, maxBatchRecords: 64 }))
      .branch(
        'by-topic',
        (_, r) => r.position.topic === 'numbers',
        (_, r) => r.position.topic === 'words',
      );
    const nums = numbers!
      .map('n', (b): Item => ({ kind: 'n', n: Number(b.toString()) }))
      .filter('even', (v) => v.kind === 'n' && v.n % 2 === 0);
    const ws = words!.map('word', (b): Item => ({ kind: 'word', word: b.toString() }));
    const leftovers = new ArraySink<Buffer>('leftovers');
    other!.to(leftovers);
    const seenAtEnd: number[] = [];
    const out = new ArraySink<Item>('out');
    nums.merge('with-words', ws).through(tally(seenAtEnd)).to(out);

    const committed = new Map<string, number>();
    await runPipeline(p, {
      untilIdle: true,
      onCommit: (o) =>
        o.forEach((x) => {
          committed.set(`${x.topic}/${x.partition}`, x.offset);
        }),
    });

    const got = out.values;
    expect(
      got
        .filter((v) => v.kind === 'n')
        .map((v) => (v as { n: number }).n)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 500 }, (_, i) => i * 2));
    expect(got.filter((v) => v.kind === 'word').map((v) => (v as { word: string }).word)).toEqual([
      'alpha',
      'beta',
      'gamma',
    ]);
    expect(leftovers.records).toHaveLength(0);
    expect(seenAtEnd).toEqual([503]); // onEnd ran once, after everything from both inputs
    const numbersCommitted = (committed.get('numbers/0') ?? 0) + (committed.get('numbers/1') ?? 0);
    expect(numbersCommitted).toBe(1_000);
    expect(committed.get('words/0')).toBe(3);
  });

  it('refuses to merge streams of two pipelines', () => {
    const transport = new MemoryTransport();
    const one = new Pipeline('one').from(topicSource(transport, { topic: 'a', group: 'g' }));
    const two = new Pipeline('two').from(topicSource(transport, { topic: 'b', group: 'g' }));
    expect(() => one.merge('m', two)).toThrow(/both streams must belong to pipeline one/);
  });
});
