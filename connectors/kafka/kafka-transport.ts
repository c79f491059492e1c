import { Worker } from 'node:worker_threads';
import {
  type Admin,
  type Consumer as KafkaJsConsumer,
  type IHeaders,
  type Batch as KafkaBatch,
  Kafka,
  Partitioners,
  logLevel,
} from 'kafkajs';
import type { KafkaSecurity } from '../../config/kafka-security.ts';
import { redactText } from '../../config/redact.ts';
import { BoundedQueue } from '../../streams/bounded-queue.ts';
import { isConnectionNoise } from './broker-errors.js';
import { BrokerOutage } from './broker-outage.ts';
import { explainKafkaError, kafkaJsSecurity } from './client-security.ts';
import { firstContact } from './first-contact.ts';
import { type TransactionRequest, TransactionOutbox } from './transaction-outbox.ts';
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
  /** SASL and TLS (config/kafka-security.ts); plaintext without. */
  security?: KafkaSecurity;
  /** How long to wait out a broker that went away mid-run (a restart) before failing. Default 300,000 ms. */
  outageBudgetMs?: number;
  /** Where the outage's state changes are told (one line each). Default: stderr. */
  log?: (line: string) => void;
  /**
   * Exactly once from the input topics to the output topics (transaction-outbox.ts): producers hold their messages
   * until the consumer commits, then messages and offsets go in one transaction. One consumer per transport.
   */
  exactlyOnce?: boolean;
}

/** Request/response over a worker thread running the kafkajs producer (see producer-thread.js for why). */
class ProducerThread {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  constructor(brokers: string[], clientId: string, security?: KafkaSecurity) {
    const workerData = { brokers, clientId, ...kafkaJsSecurity(security) };
    this.worker = new Worker(new URL('./producer-thread.js', import.meta.url), { workerData });
    const explain = (error: Error) => explainKafkaError(error, security) as Error;
    this.worker.on('message', (reply: { id: number; error?: string; unreachable?: boolean }) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      // `retriable` carries the thread's verdict (broker-errors.js) across the thread boundary.
      if (reply.error) waiter?.reject(Object.assign(explain(new Error(`Kafka produce failed: ${reply.error}`)), { retriable: reply.unreachable === true }));
      else waiter?.resolve();
    });
    this.worker.on('error', (error) => {
      for (const w of this.pending.values()) w.reject(explain(error));
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

/** Key of a topic-partition in the consumer's assignment and position maps. */
const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** A fetched kafkajs batch as the transport's messages. */
function consumedMessages(batch: KafkaBatch): ConsumedMessage[] {
  return batch.messages.map((m) => ({
    topic: batch.topic,
    partition: batch.partition,
    offset: Number(m.offset),
    key: m.key ? m.key.toString() : null,
    value: m.value ?? Buffer.alloc(0),
    timestamp: Number(m.timestamp),
    headers: headersToStrings(m.headers),
  }));
}

/**
 * The part of a batch at or after `position`, or null when none is. After kafkajs restarts a consumer (a broker
 * restart) it fetches again from the last commit: the records this process already holds are in flight in the
 * pipeline, not lost, and would count twice.
 */
function unseenPart(batch: PartitionBatch, position: number): PartitionBatch | null {
  if (batch.messages[0]!.offset >= position) return batch;
  const fresh = batch.messages.filter((m) => m.offset >= position);
  return fresh.length === 0 ? null : { ...batch, messages: fresh };
}

const stoppedError = (topics: string[], crashed: Error) =>
  new Error(`Kafka consumer of ${topics.join(', ')} stopped: ${crashed.message}`, { cause: crashed });

/** True when every partition this member holds has been read (handed to the pipeline) up to its end offset. */
async function readToEnd(
  admin: Admin,
  options: ConsumerOptions,
  assigned: Set<string>,
  positions: Map<string, number>,
  pastMarkers: Map<string, number>,
): Promise<boolean> {
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
      const committedOffset = Number(committed.find((c) => c.partition === p)?.offset ?? -1);
      const position = positions.get(tpKey(topic, p)) ?? (committedOffset >= 0 ? committedOffset : Number(offsets.low));
      if (Math.max(position, pastMarkers.get(tpKey(topic, p)) ?? -1) < Number(offsets.high)) return false;
    }
  }
  return true;
}

/**
 * Commits; while kafkajs restarts the consumer after a broker outage ("Consumer group was not initialized"), the
 * error is marked retriable, so the commit waits for the consumer to rejoin instead of failing the run.
 */
async function commitWhileRejoining(consumer: KafkaJsConsumer, commits: { topic: string; partition: number; offset: string }[]) {
  try {
    await consumer.commitOffsets(commits);
  } catch (error) {
    if (!/group was not initialized/i.test((error as Error).message)) throw error;
    throw Object.assign(new Error(`the consumer is rejoining its group: ${(error as Error).message}`, { cause: error }), { retriable: true });
  }
}

/** The kafkajs consumer driftline reads with: large fetches, commits left to the caller. */
function kafkaJsConsumer(kafka: Kafka, groupId: string, sessionTimeout: number): KafkaJsConsumer {
  return kafka.consumer({
    groupId,
    sessionTimeout,
    heartbeatInterval: 1_000,
    maxBytesPerPartition: 32 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
    // Only committed transactions (kafkajs' default, said out loud): exactly-once output is read as it was meant.
    readUncommitted: false,
  });
}

/** kafkajs logs ordinary rebalances at ERROR level; keep real errors, drop that noise. */
const quietLogCreator = () => (entry: { level: number; log: { message: string; error?: string } }) => {
  if (entry.level > logLevel.ERROR) return;
  const text = `${entry.log.message} ${entry.log.error ?? ''}`;
  if (/rebalanc|generation id is not valid|member id is not valid|not the correct coordinator/i.test(text)) return;
  // Lost connections and consumer restarts are told once per outage by BrokerOutage; kafkajs logs each attempt.
  if (isConnectionNoise(text)) return;
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
  private readonly outage: BrokerOutage;
  /** Whether a broker has answered this client yet (first-contact.ts). */
  private contacted = false;
  /** With `exactlyOnce`: the output held for the consumer's next transaction, and the consumer it belongs to. */
  private outbox?: TransactionOutbox;
  private transactionThread?: ProducerThread;
  private transactionalConsumer?: { group: string; assigned: () => TopicPartition[] };

  constructor(private readonly options: KafkaTransportOptions) {
    const log = options.log ?? ((line: string) => process.stderr.write(`${redactText(line)}\n`));
    this.outage = new BrokerOutage({ budgetMs: options.outageBudgetMs ?? 300_000, log });
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'driftline',
      brokers: options.brokers,
      logLevel: logLevel.ERROR,
      logCreator: quietLogCreator,
      // maxRetryTime: a consumer restarted after a broker outage tries again within 5 s (kafkajs' default: 30 s).
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
      ...kafkaJsSecurity(options.security),
    });
  }

  private adminClient(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      const connect = () => admin.connect().catch((error: unknown) => {
        // A broker still starting can accept the socket and fail the handshake: close what was opened.
        void admin.disconnect().catch(() => {});
        throw explainKafkaError(error, this.options.security);
      });
      // The first contact fails fast with the fix (first-contact.ts); later reconnects are outages to wait out.
      await (this.contacted ? connect() : firstContact(this.options.brokers, connect, () => void admin.disconnect().catch(() => {})));
      this.contacted = true;
      this.closers.push(() => admin.disconnect());
      return admin;
    })().catch((error: unknown) => {
      this.admin = undefined; // connect afresh next time: the broker may be back
      throw error;
    });
    return this.admin;
  }

  /** An admin request, waiting out a broker outage (see BrokerOutage). */
  private withAdmin<T>(what: string, request: (admin: Admin) => Promise<T>): Promise<T> {
    return this.outage.retry(what, async () => request(await this.adminClient()));
  }

  async partitionCount(topic: string): Promise<number> {
    return this.withAdmin(`reading ${topic}'s partitions`, async (admin) => {
      const topics = await admin.listTopics();
      if (!topics.includes(topic)) return 0;
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      return meta.topics[0]?.partitions.length ?? 0;
    });
  }

  async ensureTopic(topic: string, partitions: number): Promise<void> {
    const existing = await this.partitionCount(topic);
    await this.withAdmin(`creating topic ${topic}`, (admin) => this.createOrGrow(admin, topic, partitions, existing));
  }

  private async createOrGrow(admin: Admin, topic: string, partitions: number, existing: number): Promise<void> {
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
    const offsets = await this.withAdmin(`reading ${topic}'s end offsets`, (admin) => admin.fetchTopicOffsets(topic));
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  }

  async offsetsForTime(topic: string, timestamp: number): Promise<TimeOffsets[]> {
    if ((await this.partitionCount(topic)) === 0) return []; // never created: nothing recorded
    const ends = await this.withAdmin(`reading ${topic}'s offsets`, (admin) => admin.fetchTopicOffsets(topic));
    // Kafka timestamps are never negative: from 0 (or earlier) is simply the earliest offset.
    const starts = timestamp > 0
      ? await this.withAdmin(`finding ${topic}'s offsets by time`, (admin) => admin.fetchTopicOffsetsByTimestamp(topic, Math.ceil(timestamp)))
      : ends.map((e) => ({ partition: e.partition, offset: e.low }));
    return ends.map((e) => ({
      partition: e.partition,
      offset: Number(starts.find((s) => s.partition === e.partition)?.offset ?? e.high),
      end: Number(e.high),
    }));
  }

  async producer(): Promise<Producer> {
    if (this.options.exactlyOnce) return this.outboxProducer();
    const thread = new ProducerThread(this.options.brokers, this.options.clientId ?? 'driftline', this.options.security);
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
      send: async (topic: string, messages: Message[]) => {
        if (messages.length === 0) return;
        await checkPartitions(topic, messages);
        const request = {
          type: 'send',
          topic,
          messages: messages.map((m) => ({ key: m.key, value: m.value, timestamp: String(Math.trunc(m.timestamp)), headers: m.headers, partition: m.partition })),
        };
        // A send retried after an outage may write a batch twice: output topics are at least once.
        await this.outage.retry(`sending to ${topic}`, () => thread.call(request));
      },
      close,
    };
  }

  /** Exactly once: producers write into the outbox, which sends with the consumer's next commit. */
  private outboxProducer(): Producer {
    return {
      send: async (topic: string, messages: Message[]) => this.transactions().hold(topic, messages),
      close: async () => {},
    };
  }

  private transactions(): TransactionOutbox {
    this.outbox ??= new TransactionOutbox({
      run: (request: TransactionRequest) => {
        this.transactionThread ??= this.producerThread();
        return this.transactionThread.call({ type: 'transaction', ...request });
      },
      consumer: () => {
        if (!this.transactionalConsumer) throw new Error('exactly-once: a commit before any consumer joined');
        return { group: this.transactionalConsumer.group, assigned: this.transactionalConsumer.assigned() };
      },
    });
    return this.outbox;
  }

  private producerThread(): ProducerThread {
    const thread = new ProducerThread(this.options.brokers, this.options.clientId ?? 'driftline', this.options.security);
    this.closeOnce(() => thread.close());
    return thread;
  }

  /** Binds the outbox to the run's one consumer; output still held when it closes is derived again on restart. */
  private bindTransactions(group: string, assigned: () => TopicPartition[]): Pick<Consumer, 'commit' | 'close'> & { revoke(p: TopicPartition[]): void } {
    if (this.transactionalConsumer) throw new Error('exactly-once: one consumer per Kafka transport');
    this.transactionalConsumer = { group, assigned };
    const outbox = this.transactions();
    const log = this.options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    return {
      commit: (offsets) => outbox.commit(offsets),
      revoke: (partitions) => outbox.revoke(partitions),
      close: async () => {
        if (outbox.pending > 0) log(`exactly-once: ${outbox.pending} output records not committed at the stop; they are derived again from their input on restart`);
      },
    };
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    const { kafka, outage } = this;
    const admin = await this.adminClient();
    const consumer = kafkaJsConsumer(kafka, options.group, this.options.sessionTimeoutMs ?? 10_000);
    const buffered = new BoundedQueue<PartitionBatch>(8);
    const ready: PartitionBatch[] = [];
    let assigned = new Set<string>();
    let joined = false;
    /** Next offset to read per partition, as far as batches handed to the pipeline go. */
    const positions = new Map<string, number>();
    /**
     * Where fetches got past records the pipeline never sees: transaction markers and aborted records at the end of
     * a topic written with transactions (e.g. by an --exactly-once run). Only "read to the end" looks at it.
     */
    const pastMarkers = new Map<string, number>();
    const revokeListeners: Array<(p: TopicPartition[]) => void> = [];
    const assignedPartitions = () => [...assigned].map((id) => ({ topic: id.split('\u0000')[0]!, partition: Number(id.split('\u0000')[1]) }));
    const transactional = this.options.exactlyOnce ? this.bindTransactions(options.group, assignedPartitions) : undefined;

    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const next = new Set<string>();
      for (const [topic, parts] of Object.entries(event.payload.memberAssignment)) for (const p of parts) next.add(tpKey(topic, p));
      const revoked: TopicPartition[] = [];
      for (const id of assigned) {
        if (next.has(id)) continue;
        const [topic, partition] = id.split('\u0000');
        revoked.push({ topic: topic!, partition: Number(partition) });
        positions.delete(id);
        pastMarkers.delete(id);
      }
      assigned = next;
      joined = true;
      if (revoked.length > 0) transactional?.revoke(revoked);
      if (revoked.length > 0) for (const l of revokeListeners) l(revoked);
    });
    // A fetched batch of nothing but markers or aborted records skips eachBatch; kafkajs reports it here.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) pastMarkers.set(tpKey(payload.topic, payload.partition), Number(payload.lastOffset) + 1);
    });
    // kafkajs restarts a consumer that lost its broker by itself; one that it gives up on must stop the run.
    let crashed: Error | null = null;
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart) outage.failed('fetching', event.payload.error);
      else crashed = event.payload.error;
    });

    await consumer.connect().catch((error: unknown) => {
      throw explainKafkaError(error, this.options.security);
    });
    await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true });
    const maxBatch = options.maxBatchRecords ?? 10_000;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        outage.answered();
        if (batch.messages.length === 0) return;
        const messages = consumedMessages(batch);
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
        // Everything handed on; the batch's last offset also counts a transaction marker after its last record.
        pastMarkers.set(tpKey(batch.topic, batch.partition), Number(batch.lastOffset()) + 1);
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
        const fresh = unseenPart(b, positions.get(id) ?? -1);
        if (!fresh) continue;
        positions.set(id, fresh.messages[fresh.messages.length - 1]!.offset + 1);
        out.push(fresh);
      }
      return out;
    };

    const close = this.closeOnce(async () => {
      await transactional?.close();
      await consumer.disconnect();
    });

    return {
      async poll(waitMs: number) {
        const deadline = Date.now() + waitMs;
        for (;;) {
          if (crashed) throw stoppedError(options.topics, crashed);
          const out = takeReady();
          if (out.length > 0 || Date.now() >= deadline) return out;
          await new Promise((r) => setTimeout(r, Math.min(10, Math.max(1, deadline - Date.now()))));
        }
      },
      async commit(offsets: PartitionOffset[]) {
        const mine = offsets.filter((o) => assigned.has(tpKey(o.topic, o.partition)));
        if (mine.length === 0) return;
        if (transactional) return transactional.commit(mine); // messages and offsets in one transaction
        const commits = mine.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) }));
        try {
          await outage.retry('committing offsets', () => commitWhileRejoining(consumer, commits));
        } catch (error) {
          if (isRebalanceError(error)) return; // the partition's new owner resumes from the last good commit
          throw error;
        }
      },
      async caughtUp() {
        if (crashed) throw stoppedError(options.topics, crashed);
        if (!joined || buffered.depth > 0 || ready.length > 0) return false;
        try {
          const done = await readToEnd(admin, options, assigned, positions, pastMarkers);
          // Batches fetched during the lookups are past the ends it saw, but not yet in the pipeline's hands.
          return done && buffered.depth === 0 && ready.length === 0;
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
