import {
  type ConsumedMessage,
  type Consumer,
  type ConsumerOptions,
  type Message,
  type PartitionBatch,
  type PartitionOffset,
  type Producer,
  type TopicPartition,
  type Transport,
  partitionForKey,
} from '../transport/transport.ts';

/**
 * An in-process log with Kafka's partition, offset and consumer-group semantics and no persistence: for tests,
 * benchmarks and pipelines that live inside one process. Use the embedded log to share data between processes.
 */
export class MemoryTransport implements Transport {
  readonly kind = 'memory' as const;
  private readonly topics = new Map<string, ConsumedMessage[][]>();
  private readonly committed = new Map<string, Map<string, number>>();
  private waiters: Array<() => void> = [];
  private roundRobin = 0;

  async ensureTopic(topic: string, partitions: number): Promise<void> {
    const existing = this.topics.get(topic) ?? [];
    while (existing.length < partitions) existing.push([]);
    this.topics.set(topic, existing);
  }

  partitionsOf(topic: string): ConsumedMessage[][] {
    const partitions = this.topics.get(topic);
    if (!partitions) throw new Error(`topic ${topic} does not exist; create it with ensureTopic`);
    return partitions;
  }

  async producer(): Promise<Producer> {
    return {
      send: async (topic: string, messages: Message[]) => {
        const partitions = this.partitionsOf(topic);
        for (const m of messages) {
          const p = m.partition ?? partitionForKey(m.key, partitions.length, this.roundRobin++);
          const log = partitions[p];
          if (!log) throw new Error(`topic ${topic} has no partition ${p}`);
          log.push({ ...m, headers: m.headers ?? {}, topic, partition: p, offset: log.length });
        }
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
      },
      close: async () => {},
    };
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    for (const t of options.topics) this.partitionsOf(t);
    let groupOffsets = this.committed.get(options.group);
    if (!groupOffsets) {
      groupOffsets = new Map();
      this.committed.set(options.group, groupOffsets);
    }
    const offsets = groupOffsets;
    const max = options.maxBatchRecords ?? 10_000;
    const position = new Map<string, number>();
    const id = (t: string, p: number) => `${t}\u0000${p}`;
    const positionOf = (t: string, p: number) => {
      const key = id(t, p);
      let pos = position.get(key);
      if (pos === undefined) {
        pos = offsets.get(key) ?? (options.fromBeginning === false ? this.partitionsOf(t)[p]!.length : 0);
        position.set(key, pos);
      }
      return pos;
    };
    const read = (): PartitionBatch[] => {
      const out: PartitionBatch[] = [];
      for (const topic of options.topics) {
        this.partitionsOf(topic).forEach((log, partition) => {
          const from = positionOf(topic, partition);
          if (from >= log.length) return;
          const messages = log.slice(from, from + max);
          position.set(id(topic, partition), from + messages.length);
          out.push({ topic, partition, messages });
        });
      }
      return out;
    };
    return {
      poll: async (waitMs: number) => {
        let batches = read();
        if (batches.length > 0 || waitMs <= 0) return batches;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          this.waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        batches = read();
        return batches;
      },
      commit: async (committed: PartitionOffset[]) => {
        for (const c of committed) offsets.set(id(c.topic, c.partition), c.offset);
      },
      caughtUp: async () =>
        options.topics.every((topic) => this.partitionsOf(topic).every((log, p) => positionOf(topic, p) >= log.length)),
      onRevoked: (_listener: (partitions: TopicPartition[]) => void) => {},
      close: async () => {},
    };
  }

  async close(): Promise<void> {}
}
