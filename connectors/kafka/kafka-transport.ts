import { Worker } from 'node:worker_threads';
import {
  type Admin,
  type Consumer as KafkaJsConsumer,
  type IHeaders,
  Kafka,
  Partitioners,
  logLevel,
} from 'kafkajs';
import { redactText } from '../../config/redact.ts';
import { BoundedQueue } from '../../streams/bounded-queue.ts';
import type {
  ConsumedMessage,
  Consumer,
  ConsumerOptions,
  Message,
  PartitionBatch,
  PartitionOffset,
  Producer,
  TimeOffsets,
  TopicPartition,
  Transport,
} from '../transport.ts';

export interface KafkaTransportOptions {
  brokers: string[];
  clientId?: string;
  /** A consumer that misses heartbeats this long is dropped from its group and its partitions reassigned. */
  sessionTimeoutMs?: number;
  /** Largest message the topics we create accept (the broker's `message.max.bytes` must allow it too). */
  maxMessageBytes?: number;
}

/** Request/response over a worker thread running the kafkajs producer (see producer-thread.js for why). */
class ProducerThread {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  constructor(brokers: string[], clientId: string) {
    this.worker = new Worker(new URL('./producer-thread.js', import.meta.url), { workerData: { brokers, clientId } });
    this.worker.on('message', (reply: { id: number; error?: string }) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error) waiter?.reject(new Error(`Kafka produce failed: ${reply.error}`));
      else waiter?.resolve();
    });
    this.worker.on('error', (error) => {
      for (const w of this.pending.values()) w.reject(error);
      this.pending.clear();
    });
  }

  call(request: Record<string, unknown>): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  async close(): Promise<void> {
    await this.call({ type: 'close' });
    await this.worker.terminate();
  }
}

/** Errors that only mean "the group is rebalancing": the commit is retried by the next owner's progress. */
const REBALANCE_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR_FOR_GROUP']);

/** kafkajs wraps protocol errors (KafkaJSNonRetriableError → cause): look for a rebalance anywhere in the chain. */
export function isRebalanceError(error: unknown): boolean {
  for (let e = error as { type?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.type && REBALANCE_ERRORS.has(e.type)) return true;
  }
  return false;
}

/** kafkajs logs ordinary rebalances at ERROR level; keep real errors, drop that noise. */
const quietLogCreator = () => (entry: { level: number; log: { message: string; error?: string } }) => {
  if (entry.level > logLevel.ERROR) return;
  const text = `${entry.log.message} ${entry.log.error ?? ''}`;
  if (/rebalanc|generation id is not valid|member id is not valid|not the correct coordinator/i.test(text)) return;
  process.stderr.write(redactText(`kafkajs: ${entry.log.message}${entry.log.error ? `: ${entry.log.error}` : ''}\n`));
};

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? String(v[v.length - 1]) : String(v);
  }
  return out;
}

/**
 * Kafka through kafkajs. kafkajs is unmaintained upstream; everything Kafka-specific stays in this folder behind
 * the `Transport` interface, so a librdkafka-based client can replace it without touching pipelines.
 */
export class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private admin?: Promise<Admin>;
  private readonly closers: Array<() => Promise<void>> = [];

  constructor(private readonly options: KafkaTransportOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'driftline',
      brokers: options.brokers,
      logLevel: logLevel.ERROR,
      logCreator: quietLogCreator,
      retry: { retries: 8, initialRetryTime: 200 },
    });
  }

  private adminClient(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      this.closers.push(() => admin.disconnect());
      return admin;
    })();
    return this.admin;
  }

  async partitionCount(topic: string): Promise<number> {
    const admin = await this.adminClient();
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) return 0;
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length ?? 0;
  }

  async ensureTopic(topic: string, partitions: number): Promise<void> {
    const admin = await this.adminClient();
    const existing = await this.partitionCount(topic);
    if (existing === 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: partitions,
            replicationFactor: 1,
            configEntries: [{ name: 'max.message.bytes', value: String(this.options.maxMessageBytes ?? 20 * 1024 * 1024) }],
          },
        ],
      });
    } else if (existing < partitions) {
      await admin.createPartitions({ topicPartitions: [{ topic, count: partitions }] });
    }
  }

  /** The next offset to be written, per partition (the high watermark). */
  async endOffsets(topic: string): Promise<Map<number, number>> {
    const admin = await this.adminClient();
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  }

  async offsetsForTime(topic: string, timestamp: number): Promise<TimeOffsets[]> {
    if ((await this.partitionCount(topic)) === 0) return []; // never created: nothing recorded
    const admin = await this.adminClient();
    const ends = await admin.fetchTopicOffsets(topic);
    // Kafka timestamps are never negative: from 0 (or earlier) is simply the earliest offset.
    const starts = timestamp > 0 ? await admin.fetchTopicOffsetsByTimestamp(topic, Math.ceil(timestamp)) : ends.map((e) => ({ partition: e.partition, offset: e.low }));
    return ends.map((e) => ({
      partition: e.partition,
      offset: Number(starts.find((s) => s.partition === e.partition)?.offset ?? e.high),
      end: Number(e.high),
    }));
  }

  async producer(): Promise<Producer> {
    const thread = new ProducerThread(this.options.brokers, this.options.clientId ?? 'driftline');
    /** Partition counts the producer's metadata was built with. */
    const known = new Map<string, number>();
    const close = this.closeOnce(() => thread.close());
    // kafkajs silently drops messages for a partition missing from its cached metadata (e.g. one added after
    // it connected). Check explicit partitions first: reconnect if the topic grew, refuse if it has no such partition.
    const checkPartitions = async (topic: string, messages: Message[]) => {
      let highest = -1;
      for (const m of messages) if (m.partition !== undefined && m.partition > highest) highest = m.partition;
      if (highest < 0) return;
      if (!known.has(topic)) known.set(topic, await this.partitionCount(topic));
      if (highest < known.get(topic)!) return;
      const count = await this.partitionCount(topic);
      if (highest >= count) throw new Error(`topic ${topic} has ${count} partitions; cannot send to partition ${highest}`);
      await thread.call({ type: 'reconnect' });
      known.clear();
      known.set(topic, count);
    };
    return {
      async send(topic: string, messages: Message[]) {
        if (messages.length === 0) return;
        await checkPartitions(topic, messages);
        await thread.call({
          type: 'send',
          topic,
          messages: messages.map((m) => ({
            key: m.key,
            value: m.value,
            timestamp: String(Math.trunc(m.timestamp)),
            headers: m.headers,
            partition: m.partition,
          })),
        });
      },
      close,
    };
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    const kafka = this.kafka;
    const admin = await this.adminClient();
    const consumer: KafkaJsConsumer = kafka.consumer({
      groupId: options.group,
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: 1_000,
      maxBytesPerPartition: 32 * 1024 * 1024,
      maxBytes: 64 * 1024 * 1024,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    const buffered = new BoundedQueue<PartitionBatch>(8);
    const ready: PartitionBatch[] = [];
    const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
    let assigned = new Set<string>();
    let joined = false;
    /** Next offset to read per partition, as far as batches handed to the pipeline go. */
    const positions = new Map<string, number>();
    const revokeListeners: Array<(p: TopicPartition[]) => void> = [];

    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const next = new Set<string>();
      for (const [topic, parts] of Object.entries(event.payload.memberAssignment)) for (const p of parts) next.add(tpKey(topic, p));
      const revoked: TopicPartition[] = [];
      for (const id of assigned) {
        if (next.has(id)) continue;
        const [topic, partition] = id.split('\u0000');
        revoked.push({ topic: topic!, partition: Number(partition) });
        positions.delete(id);
      }
      assigned = next;
      joined = true;
      if (revoked.length > 0) for (const l of revokeListeners) l(revoked);
    });

    await consumer.connect();
    await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true });
    const maxBatch = options.maxBatchRecords ?? 10_000;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (batch.messages.length === 0) return;
        const messages: ConsumedMessage[] = batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: Number(m.offset),
          key: m.key ? m.key.toString() : null,
          value: m.value ?? Buffer.alloc(0),
          timestamp: Number(m.timestamp),
          headers: headersToStrings(m.headers),
        }));
        for (let i = 0; i < messages.length; i += maxBatch) {
          const chunk = messages.slice(i, i + maxBatch);
          // Wait for room while keeping the group membership alive: backpressure must not look like a crash.
          while (!buffered.hasRoom) {
            if (!isRunning() || isStale()) return;
            await new Promise((r) => setTimeout(r, 50));
            await heartbeat();
          }
          if (!isRunning() || isStale()) return;
          buffered.pushNow({ topic: batch.topic, partition: batch.partition, messages: chunk });
          resolveOffset(String(chunk[chunk.length - 1]!.offset));
        }
        await heartbeat();
      },
    });
    // Joined and assigned by now. A fetch already under way may still deliver a few earlier offsets: callers that
    // seek skip records before their start.
    for (const o of options.startOffsets ?? []) consumer.seek({ topic: o.topic, partition: o.partition, offset: String(o.offset) });

    const takeReady = (): PartitionBatch[] => {
      const out: PartitionBatch[] = [];
      while (buffered.depth > 0) ready.push(buffered.popNow()!);
      for (const b of ready.splice(0)) {
        const id = tpKey(b.topic, b.partition);
        // Batches fetched before a rebalance took the partition away belong to its new owner now.
        if (!assigned.has(id)) continue;
        positions.set(id, b.messages[b.messages.length - 1]!.offset + 1);
        out.push(b);
      }
      return out;
    };

    const close = this.closeOnce(() => consumer.disconnect());

    /** True when every assigned partition's position has reached its end offset. */
    const readToEnd = async (): Promise<boolean> => {
      for (const topic of options.topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const committed = (await admin.fetchOffsets({ groupId: options.group, topics: [topic] }))[0]?.partitions ?? [];
        let mine = [...assigned].filter((id) => id.startsWith(`${topic}\u0000`)).map((id) => Number(id.split('\u0000')[1]));
        // With nothing assigned (more members than partitions, or a rebalance still handing them to a member that
        // died), this member is done only once the group as a whole has committed everything.
        if (mine.length === 0) mine = ends.map((e) => e.partition);
        if (mine.length === 0) return false;
        for (const p of mine) {
          const offsets = ends.find((e) => e.partition === p);
          if (!offsets) return false; // kafkajs sometimes answers before it has the topic's metadata: unknown is not "done"
          const end = Number(offsets.high);
          const low = Number(offsets.low);
          const committedOffset = Number(committed.find((c) => c.partition === p)?.offset ?? -1);
          const position = positions.get(tpKey(topic, p)) ?? (committedOffset >= 0 ? committedOffset : low);
          if (position < end) return false;
        }
      }
      return true;
    };

    return {
      async poll(waitMs: number) {
        const deadline = Date.now() + waitMs;
        for (;;) {
          const out = takeReady();
          if (out.length > 0 || Date.now() >= deadline) return out;
          await new Promise((r) => setTimeout(r, Math.min(10, Math.max(1, deadline - Date.now()))));
        }
      },
      async commit(offsets: PartitionOffset[]) {
        const mine = offsets.filter((o) => assigned.has(tpKey(o.topic, o.partition)));
        if (mine.length === 0) return;
        try {
          await consumer.commitOffsets(mine.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })));
        } catch (error) {
          if (isRebalanceError(error)) return; // the partition's new owner resumes from the last good commit
          throw error;
        }
      },
      async caughtUp() {
        if (!joined || buffered.depth > 0 || ready.length > 0) return false;
        try {
          return await readToEnd();
        } catch {
          // kafkajs' offset lookups fail transiently while its metadata catches up: not caught up yet, ask again.
          return false;
        }
      },
      onRevoked(listener) {
        revokeListeners.push(listener);
      },
      close,
    };
  }

  /** A close function that runs once, whether the client or `transport.close()` calls it first. */
  private closeOnce(closeClient: () => Promise<void>): () => Promise<void> {
    let closing: Promise<void> | undefined;
    const close = () => (closing ??= closeClient());
    this.closers.push(close);
    return close;
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close().catch(() => {});
  }
}
