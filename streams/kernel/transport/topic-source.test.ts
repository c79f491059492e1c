import { describe, expect, it } from 'vitest';
import { MemoryTransport } from '../memory/memory-log.ts';
import { topicSource } from './topic-source.ts';

describe('topicSource', () => {
  it('reads several topics as one source; each record keeps the topic it came from', async () => {
    const transport = new MemoryTransport();
    const producer = await transport.producer();
    const source = topicSource(transport, {
      topic: 'postings',
      topics: ['labels', 'postings'],
      group: 'g',
      partitions: 1,
    });
    expect(source.name).toBe('source:postings+labels');
    await source.poll(0); // connecting creates both topics
    await producer.send('postings', [{ key: 'p1', value: Buffer.from('posting'), timestamp: 5 }]);
    await producer.send('labels', [{ key: 'p1', value: Buffer.from('label'), timestamp: 9 }]);
    const seen: string[] = [];
    for (let i = 0; i < 10 && seen.length < 2; i++) {
      for (const b of await source.poll(10))
        for (const r of b.records) seen.push(`${r.position.topic}:${r.key}:${r.value.toString()}:${r.eventTime}`);
    }
    expect(seen.sort()).toEqual(['labels:p1:label:9', 'postings:p1:posting:5']);
    expect(await source.caughtUp()).toBe(true);
    await source.close();
  });

  it('needs at least one topic', () => {
    expect(() => topicSource(new MemoryTransport(), { group: 'g' })).toThrow(/needs a topic/);
  });
});
