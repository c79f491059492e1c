/**
 * The log a pipeline reads from and writes to. Kafka, the embedded file log and the in-memory log all
 * implement this, so one pipeline definition runs unchanged on each. Offsets follow Kafka's meaning:
 * a committed offset is the next one to read.
 */
export interface Message {
  key: string | null;
  value: Buffer;
  /** Event time, epoch milliseconds. */
  timestamp: number;
  headers?: Record<string, string>;
  /** Explicit partition; otherwise chosen by key hash (or round robin for null keys). */
  partition?: number;
  /**
   * The input record this message was derived from (its last one, for a window). Not sent: an exactly-once Kafka
   * run holds the message until the transaction that commits the input past it (kafka/transaction-outbox.ts).
   */
  origin?: PartitionOffset;
}

export interface ConsumedMessage extends Message {
  topic: string;
  partition: number;
  offset: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface PartitionOffset extends TopicPartition {
  /** The next offset to read. */
  offset: number;
}

/** Where a partition's records from a point in time on start, and where the partition ends now. */
export interface TimeOffsets {
  partition: number;
  /** The first offset whose timestamp is at or after the time (`end` when there is none). */
  offset: number;
  /** The next offset to be written, as of the call. */
  end: number;
}

/** Messages of one partition, in offset order. */
export interface PartitionBatch extends TopicPartition {
  messages: ConsumedMessage[];
}

export interface ConsumerOptions {
  group: string;
  topics: string[];
  /** Where a group with no committed offset starts. Default: earliest. */
  fromBeginning?: boolean;
  /** Upper bound on messages per returned batch. */
  maxBatchRecords?: number;
  /**
   * Start these partitions here instead of at the group's committed offset (a replay, with offsets from
   * `offsetsForTime`). Honoured by transports that implement `offsetsForTime`; others start as usual.
   */
  startOffsets?: PartitionOffset[];
}

export interface Consumer {
  /** Resolves with the available batches, or with [] once `waitMs` passes with nothing to read. */
  poll(waitMs: number): Promise<PartitionBatch[]>;
  commit(offsets: PartitionOffset[]): Promise<void>;
  /** True once every assigned partition has been read up to its end as of now. */
  caughtUp(): Promise<boolean>;
  /** Called when partitions are taken away (rebalance), so per-partition state can be dropped. */
  onRevoked(listener: (partitions: TopicPartition[]) => void): void;
  close(): Promise<void>;
}

export interface Producer {
  /** Resolves once the log has durably accepted every message. */
  send(topic: string, messages: Message[]): Promise<void>;
  close(): Promise<void>;
}

export interface Transport {
  readonly kind: 'memory' | 'embedded' | 'kafka';
  ensureTopic(topic: string, partitions: number): Promise<void>;
  producer(): Promise<Producer>;
  consumer(options: ConsumerOptions): Promise<Consumer>;
  /**
   * Optional (Kafka: ListOffsets by timestamp): per partition of `topic` (none if it does not exist), the offset
   * range holding the records from `timestamp` on, so a replay can start there. Without it, replays read from the
   * beginning.
   */
  offsetsForTime?(topic: string, timestamp: number): Promise<TimeOffsets[]>;
  close(): Promise<void>;
}

/** Kafka's default partitioner is murmur2; any stable hash keeps a key on one partition, which is what matters. */
export function partitionForKey(key: string | null, partitions: number, roundRobin: number): number {
  if (key === null) return roundRobin % partitions;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}
