import { Worker } from 'node:worker_threads';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import type { KafkaSecurity } from '../../config/kafka-security.ts';
import { redactText } from '../../config/redact.ts';
import { isConnectionNoise } from './broker-errors.js';
import { BrokerOutage } from './broker-outage.ts';
import { explainKafkaError, kafkaJsSecurity } from './client-security.ts';
import { ConsumerAssignment } from './consumer-assignment.ts';
import { firstContact } from './first-contact.ts';
import { GroupConsumer, type TransactionalCommit } from './group-consumer.ts';
import { packBatch } from './packed-batch.js';
import { producerRequests } from './producer-requests.js';
import { type TransactionRequest, TransactionOutbox } from './transaction-outbox.ts';
import type {
  Consumer,
  ConsumerOptions,
  Message,
  Producer,
  TimeOffsets,
  TopicPartition,
  Transport,
} from '../../streams/kernel/transport/transport.ts';

export { isRebalanceError } from './group-consumer.ts';

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
  /**
   * Encode and send on a worker thread (default true): kafkajs' encoding then runs beside consuming and processing
   * rather than on their event loop. false: on the caller's thread, which costs less CPU per record (no thread, no
   * packing) where no core is spare.
   */
  producerThread?: boolean;
}

/** Where the kafkajs producer runs: requests (producer-requests.js) and their replies, on a thread or this one. */
interface ProducerRequester {
  /** Whether send requests carry a packed batch (packed-batch.js) rather than the messages. */
  readonly packs: boolean;
  call(request: Record<string, unknown>, transfer?: ArrayBuffer[]): Promise<void>;
  close(): Promise<void>;
}

type Reply = { error?: string; unreachable?: boolean };

/** A failed request's reply as an error; `retriable` carries the producer's verdict (broker-errors.js). */
const replyError = (reply: Reply, security: KafkaSecurity | undefined) =>
  Object.assign(explainKafkaError(new Error(`Kafka produce failed: ${reply.error}`), security) as Error, {
    retriable: reply.unreachable === true,
  });

/** Request/response over a worker thread running the kafkajs producer (see producer-thread.js for why). */
class ProducerThread implements ProducerRequester {
  readonly packs = true;
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  constructor(brokers: string[], clientId: string, security?: KafkaSecurity) {
    const workerData = { brokers, clientId, ...kafkaJsSecurity(security) };
    this.worker = new Worker(new URL('./producer-thread.js', import.meta.url), { workerData });
    this.worker.on('message', (reply: Reply & { id: number }) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error) waiter?.reject(replyError(reply, security));
      else waiter?.resolve();
    });
    this.worker.on('error', (error) => {
      for (const w of this.pending.values()) w.reject(explainKafkaError(error, security) as Error);
      this.pending.clear();
    });
  }

  /** `transfer`: buffers moved to the thread rather than copied (they are unusable here afterwards). */
  call(request: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }

  async close(): Promise<void> {
    await this.call({ type: 'close' });
    await this.worker.terminate();
  }
}

/** The same requests handled on this thread (`producerThread: false`). */
class ProducerInProcess implements ProducerRequester {
  readonly packs = false;
  private readonly handle: (request: Record<string, unknown>) => Promise<Reply>;

  constructor(
    brokers: string[],
    clientId: string,
    private readonly security?: KafkaSecurity,
  ) {
    this.handle = producerRequests({ brokers, clientId, ...kafkaJsSecurity(security) });
  }

  async call(request: Record<string, unknown>): Promise<void> {
    const reply = await this.handle(request);
    if (reply.error) throw replyError(reply, this.security);
  }

  async close(): Promise<void> {
    await this.call({ type: 'close' });
  }
}

/** A message as kafkajs takes it (timestamps as strings of whole milliseconds). */
const kafkaJsMessage = (m: Message) => ({
  key: m.key,
  value: m.value,
  timestamp: String(Math.trunc(m.timestamp)),
  headers: m.headers,
  partition: m.partition,
});

/** kafkajs logs ordinary rebalances at ERROR level; keep real errors, drop that noise. */
const quietLogCreator = () => (entry: { level: number; log: { message: string; error?: string } }) => {
  if (entry.level > logLevel.ERROR) return;
  const text = `${entry.log.message} ${entry.log.error ?? ''}`;
  if (/rebalanc|generation id is not valid|member id is not valid|not the correct coordinator/i.test(text)) return;
  // Lost connections and consumer restarts are told once per outage by BrokerOutage; kafkajs logs each attempt.
  if (isConnectionNoise(text)) return;
  process.stderr.write(redactText(`kafkajs: ${entry.log.message}${entry.log.error ? `: ${entry.log.error}` : ''}\n`));
};

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
  private transactionThread?: ProducerRequester;
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
      const connect = () =>
        admin.connect().catch((error: unknown) => {
          // A broker still starting can accept the socket and fail the handshake: close what was opened.
          void admin.disconnect().catch(() => {});
          throw explainKafkaError(error, this.options.security);
        });
      // The first contact fails fast with the fix (first-contact.ts); later reconnects are outages to wait out.
      await (this.contacted
        ? connect()
        : firstContact(this.options.brokers, connect, () => void admin.disconnect().catch(() => {})));
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
            configEntries: [
              { name: 'max.message.bytes', value: String(this.options.maxMessageBytes ?? 20 * 1024 * 1024) },
            ],
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
    const starts =
      timestamp > 0
        ? await this.withAdmin(`finding ${topic}'s offsets by time`, (admin) =>
            admin.fetchTopicOffsetsByTimestamp(topic, Math.ceil(timestamp)),
          )
        : ends.map((e) => ({ partition: e.partition, offset: e.low }));
    return ends.map((e) => ({
      partition: e.partition,
      offset: Number(starts.find((s) => s.partition === e.partition)?.offset ?? e.high),
      end: Number(e.high),
    }));
  }

  async producer(): Promise<Producer> {
    if (this.options.exactlyOnce) return this.outboxProducer();
    const { requester, close } = this.producerRequester();
    /** Partition counts the producer's metadata was built with. */
    const known = new Map<string, number>();
    // kafkajs silently drops messages for a partition missing from its cached metadata (e.g. one added after
    // it connected). Check explicit partitions first: reconnect if the topic grew, refuse if it has no such partition.
    const checkPartitions = async (topic: string, messages: Message[]) => {
      let highest = -1;
      for (const m of messages) if (m.partition !== undefined && m.partition > highest) highest = m.partition;
      if (highest < 0) return;
      if (!known.has(topic)) known.set(topic, await this.partitionCount(topic));
      if (highest < known.get(topic)!) return;
      const count = await this.partitionCount(topic);
      if (highest >= count)
        throw new Error(`topic ${topic} has ${count} partitions; cannot send to partition ${highest}`);
      await requester.call({ type: 'reconnect' });
      known.clear();
      known.set(topic, count);
    };
    return {
      send: async (topic: string, messages: Message[]) => {
        if (messages.length === 0) return;
        await checkPartitions(topic, messages);
        // A send retried after an outage may write a batch twice: output topics are at least once. Each attempt
        // packs afresh: a transferred buffer is gone from this thread.
        await this.outage.retry(`sending to ${topic}`, () => {
          if (!requester.packs) return requester.call({ type: 'send', topic, messages: messages.map(kafkaJsMessage) });
          const { batch, transfer } = packBatch(messages);
          return requester.call({ type: 'send', topic, batch }, transfer);
        });
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
        this.transactionThread ??= this.producerRequester().requester;
        return this.transactionThread.call({ type: 'transaction', ...request });
      },
      consumer: () => {
        if (!this.transactionalConsumer) throw new Error('exactly-once: a commit before any consumer joined');
        return { group: this.transactionalConsumer.group, assigned: this.transactionalConsumer.assigned() };
      },
    });
    return this.outbox;
  }

  /** A kafkajs producer on a thread of its own or this one (`producerThread`), closed with the transport. */
  private producerRequester(): { requester: ProducerRequester; close: () => Promise<void> } {
    const { brokers, clientId = 'driftline', security } = this.options;
    const requester =
      this.options.producerThread === false
        ? new ProducerInProcess(brokers, clientId, security)
        : new ProducerThread(brokers, clientId, security);
    return { requester, close: this.closeOnce(() => requester.close()) };
  }

  /** Binds the outbox to the run's one consumer; output still held when it closes is derived again on restart. */
  private bindTransactions(group: string, assigned: () => TopicPartition[]): TransactionalCommit {
    if (this.transactionalConsumer) throw new Error('exactly-once: one consumer per Kafka transport');
    this.transactionalConsumer = { group, assigned };
    const outbox = this.transactions();
    const log = this.options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    return {
      commit: (offsets) => outbox.commit(offsets),
      revoke: (partitions) => outbox.revoke(partitions),
      close: async () => {
        if (outbox.pending > 0)
          log(
            `exactly-once: ${outbox.pending} output records not committed at the stop; they are derived again from ` +
              `their input on restart`,
          );
      },
    };
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    const admin = await this.adminClient();
    const assignment = new ConsumerAssignment();
    const transactional = this.options.exactlyOnce
      ? this.bindTransactions(options.group, () => assignment.partitions())
      : undefined;
    const sessionTimeoutMs = this.options.sessionTimeoutMs ?? 10_000;
    const group = new GroupConsumer({
      kafka: this.kafka,
      admin,
      options,
      sessionTimeoutMs,
      outage: this.outage,
      assignment,
      transactional,
    });
    await group.start(this.options.security);
    const close = this.closeOnce(() => group.close());
    // A plain object rather than the class: callers may spread it to wrap some of its methods.
    return {
      poll: (waitMs) => group.poll(waitMs),
      commit: (offsets) => group.commit(offsets),
      caughtUp: () => group.caughtUp(),
      onRevoked: (listener) => group.onRevoked(listener),
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
