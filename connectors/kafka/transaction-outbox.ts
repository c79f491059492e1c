import type { Message, PartitionOffset, TopicPartition } from '../../streams/kernel/transport/transport.ts';

/** A message as the producer thread sends it (producer-thread.js). */
export interface WireMessage {
  key: string | null;
  value: Buffer;
  timestamp: string;
  headers?: Record<string, string>;
}

/** One Kafka transaction: the output messages, then the consumer offsets, committed together (producer-thread.js). */
export interface TransactionRequest {
  transactionalId: string;
  topicMessages: { topic: string; messages: WireMessage[] }[];
  offsets: {
    consumerGroupId: string;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  };
}

interface Held {
  topic: string;
  message: Message;
}

const tpKey = (p: TopicPartition) => `${p.topic}\u0000${p.partition}`;

/**
 * The transactional id of a worker: stable for its consumer group and the partitions it holds, so a restarted
 * worker takes over the id and the broker fences the killed one (aborting its open transaction).
 */
export function transactionalId(group: string, partitions: TopicPartition[]): string {
  const held = partitions.map((p) => `${p.topic}-${p.partition}`).sort();
  return `${group}.eos.${held.join(',')}`;
}

export interface OutboxOptions {
  /** Runs one transaction (the producer thread). */
  run: (request: TransactionRequest) => Promise<void>;
  /** The consumer group and the partitions it is assigned now (known once the consumer has joined). */
  consumer: () => { group: string; assigned: TopicPartition[] };
}

/**
 * Exactly-once output for a topic-to-topic run. Sinks write into the outbox; nothing reaches Kafka until the
 * consumer commits. A commit then runs one transaction with the held messages whose input is below the committed
 * offsets, and those offsets (`sendOffsets`). Both halves hold:
 * - every message sent comes from input the transaction commits past, so a restart never derives it again;
 * - every message derived from that input is in it: the runtime commits an offset only after every sink
 *   acknowledged everything derived from the records before it, and the outbox acknowledges on receipt.
 * A message's input is its `origin` (the record it came from, or a window's last record: windows keep their
 * records per partition, so the last one has the highest offset). Messages whose input is not committed yet wait
 * for a later commit; on a crash they are lost with their transaction, and the restart derives them again.
 */
export class TransactionOutbox {
  private held: Held[] = [];
  private readonly committed = new Map<string, number>();

  constructor(private readonly options: OutboxOptions) {}

  /** Messages held so far (not yet sent in a committed transaction). */
  get pending(): number {
    return this.held.length;
  }

  hold(topic: string, messages: Message[]): void {
    for (const message of messages) this.held.push({ topic, message });
  }

  /** Commits `offsets` (next offsets to read) in one transaction with every held message they cover. */
  async commit(offsets: PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    for (const o of offsets) this.committed.set(tpKey(o), o.offset);
    const taken = this.held;
    this.held = [];
    const due: Held[] = [];
    const later: Held[] = [];
    for (const h of taken) (this.covers(h.message) ? due : later).push(h);
    const { group, assigned } = this.options.consumer();
    try {
      await this.options.run({
        transactionalId: transactionalId(group, assigned),
        topicMessages: byTopic(due),
        offsets: offsetsRequest(group, offsets),
      });
    } catch (error) {
      this.held = [...taken, ...this.held]; // nothing was committed: all of it still waits
      throw error;
    }
    this.held = [...later, ...this.held]; // keep arrival order; messages written during the transaction come last
  }

  /** Partitions taken away: their new owner derives these messages again from the last commit. */
  revoke(partitions: TopicPartition[]): void {
    const gone = new Set(partitions.map(tpKey));
    for (const id of gone) this.committed.delete(id);
    this.held = this.held.filter((h) => !h.message.origin || !gone.has(tpKey(h.message.origin)));
  }

  /** A message goes out once its input is committed. One without an origin goes with the next transaction. */
  private covers(message: Message): boolean {
    if (!message.origin) return true;
    const next = this.committed.get(tpKey(message.origin));
    return next !== undefined && message.origin.offset < next;
  }
}

function byTopic(held: Held[]): TransactionRequest['topicMessages'] {
  const topics = new Map<string, WireMessage[]>();
  for (const { topic, message: m } of held) {
    let list = topics.get(topic);
    if (!list) {
      list = [];
      topics.set(topic, list);
    }
    list.push({ key: m.key, value: m.value, timestamp: String(Math.trunc(m.timestamp)), headers: m.headers });
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}

function offsetsRequest(group: string, offsets: PartitionOffset[]): TransactionRequest['offsets'] {
  const topics = new Map<string, { partition: number; offset: string }[]>();
  for (const o of offsets) {
    let list = topics.get(o.topic);
    if (!list) {
      list = [];
      topics.set(o.topic, list);
    }
    list.push({ partition: o.partition, offset: String(o.offset) });
  }
  return { consumerGroupId: group, topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) };
}
