/**
 * The contract every Transport (memory, embedded, Kafka) must meet, as a reusable vitest suite:
 *
 *   transportConformance('embedded', async () => new EmbeddedLogTransport({ dir }));
 *
 * `makeTransport` is called once per test and the transport is closed after it. Every test uses its own
 * randomly named topics and groups, so the suite can run against a shared, long-lived Kafka cluster.
 * Against Kafka the broker must accept 5 MB+ messages (message.max.bytes / max.message.bytes) for the
 * large-value test.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ConsumedMessage,
  Consumer,
  ConsumerOptions,
  Message,
  PartitionBatch,
  Producer,
  Transport,
} from './transport.ts';

export interface ConformanceOptions {
  /** Per-test timeout. Default 30 s (generous for Kafka; the embedded log needs well under one). */
  timeoutMs?: number;
  /** How long to wait for expected messages before failing. Default 15 s. */
  drainTimeoutMs?: number;
}

export function transportConformance(
  name: string,
  makeTransport: () => Promise<Transport>,
  options: ConformanceOptions = {},
): void {
  const timeout = options.timeoutMs ?? 30_000;
  const drainTimeoutMs = options.drainTimeoutMs ?? 15_000;

  describe(`transport conformance: ${name}`, { timeout }, () => {
    let transport: Transport;
    let cleanups: Array<() => Promise<void>> = [];

    beforeEach(async () => {
      transport = await makeTransport();
    });

    afterEach(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      cleanups = [];
      await transport.close();
    });

    const unique = (label: string): string =>
      `conf-${label}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

    async function newTopic(label: string, partitions: number): Promise<string> {
      const topic = unique(label);
      await transport.ensureTopic(topic, partitions);
      return topic;
    }

    async function newProducer(): Promise<Producer> {
      const producer = await transport.producer();
      cleanups.push(() => producer.close());
      return producer;
    }

    async function newConsumer(opts: ConsumerOptions): Promise<Consumer> {
      const consumer = await transport.consumer(opts);
      cleanups.push(() => consumer.close());
      return consumer;
    }

    /** Polls until exactly `count` messages arrived (fails on timeout); returns them in arrival order. */
    async function drain(consumer: Consumer, count: number): Promise<ConsumedMessage[]> {
      const got: ConsumedMessage[] = [];
      const deadline = Date.now() + drainTimeoutMs;
      while (got.length < count) {
        if (Date.now() > deadline) throw new Error(`timed out: received ${got.length} of ${count} messages`);
        const batches = await consumer.poll(200);
        checkBatches(batches);
        for (const b of batches) got.push(...b.messages);
      }
      expect(got.length).toBe(count);
      return got;
    }

    /** Structural checks every poll result must pass. */
    function checkBatches(batches: PartitionBatch[]): void {
      for (const b of batches) {
        expect(b.messages.length).toBeGreaterThan(0);
        for (let i = 0; i < b.messages.length; i++) {
          const m = b.messages[i]!;
          expect(m.topic).toBe(b.topic);
          expect(m.partition).toBe(b.partition);
          if (i > 0) expect(m.offset).toBe(b.messages[i - 1]!.offset + 1);
        }
      }
    }

    async function expectNothingMore(consumer: Consumer, waitMs = 300): Promise<void> {
      expect(await consumer.poll(waitMs)).toEqual([]);
    }

    const text = (s: string): Buffer => Buffer.from(s, 'utf8');
    const msg = (key: string | null, value: string, extra: Partial<Message> = {}): Message => ({
      key,
      value: text(value),
      timestamp: 1_700_000_000_000,
      ...extra,
    });
    const byPartition = (messages: ConsumedMessage[]): Map<number, ConsumedMessage[]> => {
      const map = new Map<number, ConsumedMessage[]>();
      for (const m of messages) {
        if (!map.has(m.partition)) map.set(m.partition, []);
        map.get(m.partition)!.push(m);
      }
      return map;
    };

    it('ensureTopic is idempotent, adds partitions when asked for more and never removes any', async () => {
      const topic = await newTopic('ensure', 3);
      await transport.ensureTopic(topic, 3);
      await transport.ensureTopic(topic, 2); // fewer: must not shrink
      const producer = await newProducer();
      for (let p = 0; p < 3; p++) await producer.send(topic, [msg(null, `p${p}`, { partition: p })]);

      await transport.ensureTopic(topic, 5);
      await producer.send(topic, [msg(null, 'p4', { partition: 4 })]);

      const consumer = await newConsumer({ group: unique('g'), topics: [topic] });
      const got = await drain(consumer, 4);
      expect(got.map((m) => `${m.partition}:${m.value.toString()}`).sort()).toEqual(['0:p0', '1:p1', '2:p2', '4:p4']);
      for (const m of got) expect(m.offset).toBe(0);
      await expectNothingMore(consumer);
    });

    it('maps a key to one stable partition, across sends and producers', async () => {
      const topic = await newTopic('keys', 4);
      const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
      const first = await newProducer();
      for (let round = 0; round < 3; round++)
        await first.send(
          topic,
          keys.map((k) => msg(k, `${k}#${round}`)),
        );
      const second = await newProducer();
      await second.send(
        topic,
        keys.map((k) => msg(k, `${k}#3`)),
      );

      const consumer = await newConsumer({ group: unique('g'), topics: [topic] });
      const got = await drain(consumer, keys.length * 4);
      const partitionsOfKey = new Map<string, Set<number>>();
      for (const m of got) {
        if (!partitionsOfKey.has(m.key!)) partitionsOfKey.set(m.key!, new Set());
        partitionsOfKey.get(m.key!)!.add(m.partition);
      }
      expect(partitionsOfKey.size).toBe(keys.length);
      for (const [, parts] of partitionsOfKey) expect(parts.size).toBe(1);
      // 20 keys over 4 partitions: a hash that puts everything on one partition is not partitioning.
      expect(new Set(got.map((m) => m.partition)).size).toBeGreaterThan(1);
    });

    it('assigns contiguous offsets from 0 per partition, in send order', async () => {
      const topic = await newTopic('order', 3);
      const producer = await newProducer();
      let seq = 0;
      for (let send = 0; send < 3; send++) {
        const batch: Message[] = [];
        for (let i = 0; i < 100; i++, seq++) batch.push(msg(`k${seq % 7}`, String(seq)));
        await producer.send(topic, batch);
      }
      const consumer = await newConsumer({ group: unique('g'), topics: [topic] });
      const got = await drain(consumer, 300);
      for (const [, messages] of byPartition(got)) {
        expect(messages.map((m) => m.offset)).toEqual(messages.map((_, i) => i));
        const seqs = messages.map((m) => Number(m.value.toString()));
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
      expect(new Set(got.map((m) => Number(m.value.toString()))).size).toBe(300);
      await expectNothingMore(consumer);
    });

    it('resumes a consumer group from its committed offsets after close and reopen', async () => {
      const topic = await newTopic('resume', 2);
      const group = unique('g');
      const producer = await newProducer();
      const batch: Message[] = [];
      for (let i = 0; i < 10; i++)
        batch.push(msg(null, `a${i}`, { partition: 0 }), msg(null, `b${i}`, { partition: 1 }));
      await producer.send(topic, batch);

      const first = await transport.consumer({ group, topics: [topic] });
      try {
        await drain(first, 20);
        // Partition 0 only partly processed (offset 4 is the next to read), partition 1 fully.
        await first.commit([
          { topic, partition: 0, offset: 4 },
          { topic, partition: 1, offset: 10 },
        ]);
      } finally {
        await first.close();
      }

      await producer.send(topic, [msg(null, 'b10', { partition: 1 }), msg(null, 'b11', { partition: 1 })]);
      const second = await newConsumer({ group, topics: [topic] });
      const got = byPartition(await drain(second, 8));
      expect(got.get(0)!.map((m) => `${m.offset}:${m.value.toString()}`)).toEqual([
        '4:a4',
        '5:a5',
        '6:a6',
        '7:a7',
        '8:a8',
        '9:a9',
      ]);
      expect(got.get(1)!.map((m) => `${m.offset}:${m.value.toString()}`)).toEqual(['10:b10', '11:b11']);
      await expectNothingMore(second);
    });

    it('starts a group without commits at the beginning, whatever other groups committed', async () => {
      const topic = await newTopic('groups', 1);
      const producer = await newProducer();
      await producer.send(topic, [msg('k', 'one'), msg('k', 'two'), msg('k', 'three')]);

      const a = await transport.consumer({ group: unique('a'), topics: [topic] });
      try {
        await drain(a, 3);
        await a.commit([{ topic, partition: 0, offset: 3 }]);
      } finally {
        await a.close();
      }

      const b = await newConsumer({ group: unique('b'), topics: [topic] });
      const got = await drain(b, 3);
      expect(got.map((m) => `${m.offset}:${m.value.toString()}`)).toEqual(['0:one', '1:two', '2:three']);
    });

    it('with fromBeginning: false, starts a new group at the end', async () => {
      const topic = await newTopic('latest', 1);
      const producer = await newProducer();
      await producer.send(topic, [msg('k', 'old-0'), msg('k', 'old-1'), msg('k', 'old-2')]);
      const consumer = await newConsumer({ group: unique('g'), topics: [topic], fromBeginning: false });
      await expectNothingMore(consumer, 300); // also gives a broker time to assign and resolve "latest"
      await producer.send(topic, [msg('k', 'new-3'), msg('k', 'new-4')]);
      const got = await drain(consumer, 2);
      expect(got.map((m) => `${m.offset}:${m.value.toString()}`)).toEqual(['3:new-3', '4:new-4']);
    });

    it('resolves poll with [] after waitMs when there is nothing to read', async () => {
      const topic = await newTopic('idle', 2);
      const consumer = await newConsumer({ group: unique('g'), topics: [topic] });
      await consumer.poll(100); // warm-up (group join on a broker)

      let started = Date.now();
      expect(await consumer.poll(150)).toEqual([]);
      let elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(140);
      expect(elapsed).toBeLessThan(2_000);

      const producer = await newProducer();
      await producer.send(topic, [msg('k', 'x')]);
      await drain(consumer, 1);
      started = Date.now();
      expect(await consumer.poll(100)).toEqual([]);
      elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(90);
      expect(elapsed).toBeLessThan(2_000);
    });

    it('reports caughtUp only when everything has been read', async () => {
      const topic = await newTopic('caughtup', 2);
      const producer = await newProducer();
      await producer.send(
        topic,
        [0, 1, 2, 3, 4].map((i) => msg(`k${i}`, `v${i}`)),
      );

      const consumer = await newConsumer({ group: unique('g'), topics: [topic] });
      expect(await consumer.caughtUp()).toBe(false); // not yet read anything
      await drain(consumer, 5);
      expect(await consumer.caughtUp()).toBe(true);

      await producer.send(topic, [msg('k9', 'v9')]);
      expect(await consumer.caughtUp()).toBe(false);
      await drain(consumer, 1);
      expect(await consumer.caughtUp()).toBe(true);
    });

    it('round-trips keys (incl. null and empty), headers, timestamps and binary values exactly', async () => {
      const topic = await newTopic('roundtrip', 1);
      const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const notUtf8 = Buffer.from([
        0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc,
      ]);
      const sent: Message[] = [
        {
          key: null,
          value: notUtf8,
          timestamp: 1_700_000_000_123,
          headers: { trace: 'abc', 'ünïcode-名前': 'välue ✓', empty: '' },
        },
        { key: '', value: Buffer.alloc(0), timestamp: 1 },
        {
          key: 'ключ-🔑',
          value: allBytes,
          timestamp: Date.now(),
          headers: { 'content-type': 'application/octet-stream' },
        },
        { key: 'plain', value: text('{"json":true}'), timestamp: 253_402_300_799_999 }, // 9999-12-31
      ];
      const producer = await newProducer();
      await producer.send(topic, sent);
      const consumer = await newConsumer({ group: unique('g'), topics: [topic] });
      const got = await drain(consumer, sent.length);
      got.forEach((m, i) => {
        const s = sent[i]!;
        expect(m.topic).toBe(topic);
        expect(m.partition).toBe(0);
        expect(m.offset).toBe(i);
        expect(m.key).toBe(s.key);
        expect(m.timestamp).toBe(s.timestamp);
        expect(Buffer.isBuffer(m.value)).toBe(true);
        expect(m.value.equals(s.value)).toBe(true);
        // A message sent without headers may come back without headers or with none.
        expect(m.headers ?? {}).toEqual(s.headers ?? {});
      });
    });

    it('round-trips a 5 MB binary value', async () => {
      const topic = await newTopic('large', 1);
      const big = randomBytes(5 * 1024 * 1024);
      const producer = await newProducer();
      await producer.send(topic, [
        { key: 'before', value: text('small'), timestamp: 10 },
        { key: 'big', value: big, timestamp: 11, headers: { size: String(big.length) } },
        { key: 'after', value: text('small'), timestamp: 12 },
      ]);
      const consumer = await newConsumer({ group: unique('g'), topics: [topic] });
      const got = await drain(consumer, 3);
      expect(got.map((m) => m.key)).toEqual(['before', 'big', 'after']);
      expect(got[1]!.value.length).toBe(big.length);
      expect(got[1]!.value.equals(big)).toBe(true);
      expect(got[1]!.headers).toEqual({ size: String(big.length) });
      expect(got[2]!.value.toString()).toBe('small');
    });
  });
}
