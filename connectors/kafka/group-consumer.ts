import type {
  Admin,
  EachBatchPayload,
  IHeaders,
  Batch as KafkaBatch,
  Consumer as KafkaJsConsumer,
  Kafka,
} from 'kafkajs';
import type { KafkaSecurity } from '../../config/kafka-security.ts';
import { BoundedQueue } from '../../streams/kernel/bounded-queue.ts';
import type { BrokerOutage } from './broker-outage.ts';
import { explainKafkaError } from './client-security.ts';
import type { ConsumerAssignment } from './consumer-assignment.ts';
import type {
  ConsumedMessage,
  Consumer,
  ConsumerOptions,
  PartitionBatch,
  PartitionOffset,
  TopicPartition,
} from '../../streams/kernel/transport/transport.ts';

/** With --exactly-once: commits run the transaction outbox, and partitions taken away drop what it held for them. */
export type TransactionalCommit = Pick<Consumer, 'commit' | 'close'> & { revoke(partitions: TopicPartition[]): void };

/** Errors that only mean "the group is rebalancing": the commit is retried by the next owner's progress. */
const REBALANCE_ERRORS = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'NOT_COORDINATOR_FOR_GROUP',
]);

/** kafkajs wraps protocol errors (KafkaJSNonRetriableError → cause): look for a rebalance anywhere in the chain. */
export function isRebalanceError(error: unknown): boolean {
  for (
    let e = error as { type?: string; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (e.type && REBALANCE_ERRORS.has(e.type)) return true;
  }
  return false;
}

/**
 * Commits; while kafkajs restarts the consumer after a broker outage ("Consumer group was not initialized"), the
 * error is marked retriable, so the commit waits for the consumer to rejoin instead of failing the run.
 */
async function commitWhileRejoining(
  consumer: KafkaJsConsumer,
  commits: { topic: string; partition: number; offset: string }[],
) {
  try {
    await consumer.commitOffsets(commits);
  } catch (error) {
    if (!/group was not initialized/i.test((error as Error).message)) throw error;
    throw Object.assign(
      new Error(`the consumer is rejoining its group: ${(error as Error).message}`, { cause: error }),
      { retriable: true },
    );
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

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? String(v[v.length - 1]) : String(v);
  }
  return out;
}

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

const stoppedError = (topics: string[], crashed: Error) =>
  new Error(`Kafka consumer of ${topics.join(', ')} stopped: ${crashed.message}`, { cause: crashed });

export interface GroupConsumerParts {
  kafka: Kafka;
  admin: Admin;
  options: ConsumerOptions;
  sessionTimeoutMs: number;
  outage: BrokerOutage;
  assignment: ConsumerAssignment;
  transactional?: TransactionalCommit;
}

/**
 * One member of a consumer group: kafkajs fetches into a small buffer (backpressure keeps the membership alive),
 * `poll` hands on what was not seen yet, `commit` commits (or runs the transaction), `caughtUp` checks the ends.
 */
export class GroupConsumer {
  private readonly consumer: KafkaJsConsumer;
  private readonly buffered = new BoundedQueue<PartitionBatch>(8);
  private readonly ready: PartitionBatch[] = [];
  private readonly revokeListeners: Array<(p: TopicPartition[]) => void> = [];
  /** kafkajs restarts a consumer that lost its broker by itself; one that it gives up on must stop the run. */
  private crashed: Error | null = null;

  constructor(private readonly parts: GroupConsumerParts) {
    this.consumer = kafkaJsConsumer(parts.kafka, parts.options.group, parts.sessionTimeoutMs);
  }

  /** Joins the group and starts fetching; resolves once joined and assigned, at the start offsets if any. */
  async start(security: KafkaSecurity | undefined): Promise<void> {
    const {
      consumer,
      parts: { options },
    } = this;
    this.watchGroup();
    await consumer.connect().catch((error: unknown) => {
      throw explainKafkaError(error, security);
    });
    await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.buffer(payload),
    });
    // A fetch already under way may still deliver a few earlier offsets: callers that seek skip records before their
    // start.
    for (const o of options.startOffsets ?? [])
      consumer.seek({ topic: o.topic, partition: o.partition, offset: String(o.offset) });
  }

  private watchGroup(): void {
    const {
      consumer,
      parts: { assignment, outage, transactional },
    } = this;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const revoked = assignment.join(event.payload.memberAssignment);
      if (revoked.length > 0) transactional?.revoke(revoked);
      if (revoked.length > 0) for (const l of this.revokeListeners) l(revoked);
    });
    // A fetched batch of nothing but markers or aborted records skips eachBatch; kafkajs reports it here.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) assignment.passed(payload.topic, payload.partition, Number(payload.lastOffset) + 1);
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart) outage.failed('fetching', event.payload.error);
      else this.crashed = event.payload.error;
    });
  }

  /**
   * kafkajs' eachBatch: the batch into the buffer in chunks of at most maxBatchRecords, offsets resolved as they go.
   */
  private async buffer({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    this.parts.outage.answered();
    if (batch.messages.length === 0) return;
    const messages = consumedMessages(batch);
    const maxBatch = this.parts.options.maxBatchRecords ?? 10_000;
    for (let i = 0; i < messages.length; i += maxBatch) {
      const chunk = messages.slice(i, i + maxBatch);
      // Wait for room while keeping the group membership alive: backpressure must not look like a crash.
      while (!this.buffered.hasRoom) {
        if (!isRunning() || isStale()) return;
        await new Promise((r) => setTimeout(r, 50));
        await heartbeat();
      }
      if (!isRunning() || isStale()) return;
      this.buffered.pushNow({ topic: batch.topic, partition: batch.partition, messages: chunk });
      resolveOffset(String(chunk[chunk.length - 1]!.offset));
    }
    // Everything handed on; the batch's last offset also counts a transaction marker after its last record.
    this.parts.assignment.passed(batch.topic, batch.partition, Number(batch.lastOffset()) + 1);
    await heartbeat();
  }

  private takeReady(): PartitionBatch[] {
    const out: PartitionBatch[] = [];
    while (this.buffered.depth > 0) this.ready.push(this.buffered.popNow()!);
    for (const b of this.ready.splice(0)) {
      const fresh = this.parts.assignment.take(b);
      if (fresh) out.push(fresh);
    }
    return out;
  }

  async poll(waitMs: number): Promise<PartitionBatch[]> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (this.crashed) throw stoppedError(this.parts.options.topics, this.crashed);
      const out = this.takeReady();
      if (out.length > 0 || Date.now() >= deadline) return out;
      await new Promise((r) => setTimeout(r, Math.min(10, Math.max(1, deadline - Date.now()))));
    }
  }

  async commit(offsets: PartitionOffset[]): Promise<void> {
    const { assignment, transactional, outage } = this.parts;
    const mine = offsets.filter((o) => assignment.holds(o.topic, o.partition));
    if (mine.length === 0) return;
    if (transactional) return transactional.commit(mine); // messages and offsets in one transaction
    const commits = mine.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) }));
    try {
      await outage.retry('committing offsets', () => commitWhileRejoining(this.consumer, commits));
    } catch (error) {
      if (isRebalanceError(error)) return; // the partition's new owner resumes from the last good commit
      throw error;
    }
  }

  async caughtUp(): Promise<boolean> {
    if (this.crashed) throw stoppedError(this.parts.options.topics, this.crashed);
    if (!this.parts.assignment.joined || this.buffered.depth > 0 || this.ready.length > 0) return false;
    try {
      const done = await this.parts.assignment.readToEnd(this.parts.admin, this.parts.options);
      // Batches fetched during the lookups are past the ends it saw, but not yet in the pipeline's hands.
      return done && this.buffered.depth === 0 && this.ready.length === 0;
    } catch {
      // kafkajs' offset lookups fail transiently while its metadata catches up: not caught up yet, ask again.
      return false;
    }
  }

  onRevoked(listener: (partitions: TopicPartition[]) => void): void {
    this.revokeListeners.push(listener);
  }

  async close(): Promise<void> {
    await this.parts.transactional?.close();
    await this.consumer.disconnect();
  }
}
