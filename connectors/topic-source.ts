import type { StreamRecord } from '../streams/record.ts';
import type { Source, SourceBatch } from '../streams/source.ts';
import type { Consumer, PartitionOffset, TopicPartition, Transport } from './transport.ts';

export interface TopicSourceOptions {
  topic: string;
  group: string;
  /** Partitions to create the topic with if it does not exist yet. */
  partitions?: number;
  maxBatchRecords?: number;
  fromBeginning?: boolean;
}

/** Reads a topic of any transport as raw bytes; the first operator of a pipeline decodes them. */
export function topicSource(transport: Transport, options: TopicSourceOptions): Source<Buffer> {
  let consumer: Consumer | undefined;
  const revokeListeners: Array<(partitions: TopicPartition[]) => void> = [];
  const connect = async () => {
    if (consumer) return consumer;
    await transport.ensureTopic(options.topic, options.partitions ?? 1);
    consumer = await transport.consumer({
      group: options.group,
      topics: [options.topic],
      fromBeginning: options.fromBeginning ?? true,
      maxBatchRecords: options.maxBatchRecords,
    });
    for (const l of revokeListeners) consumer.onRevoked(l);
    return consumer;
  };
  return {
    name: `source:${options.topic}`,
    async poll(waitMs: number): Promise<SourceBatch<Buffer>[]> {
      const batches = await (await connect()).poll(waitMs);
      return batches.map((b) => {
        const records: StreamRecord<Buffer>[] = new Array(b.messages.length);
        for (let i = 0; i < b.messages.length; i++) {
          const m = b.messages[i]!;
          records[i] = {
            key: m.key,
            value: m.value,
            eventTime: m.timestamp,
            headers: m.headers ?? {},
            position: { topic: b.topic, partition: b.partition, offset: m.offset },
            raw: m.value,
          };
        }
        const last = b.messages[b.messages.length - 1];
        return { topic: b.topic, partition: b.partition, records, nextOffset: last ? last.offset + 1 : 0 };
      });
    },
    async commit(offsets: PartitionOffset[]) {
      await (await connect()).commit(offsets);
    },
    async caughtUp() {
      return (await connect()).caughtUp();
    },
    onRevoked(listener) {
      revokeListeners.push(listener);
      consumer?.onRevoked(listener);
    },
    async close() {
      await consumer?.close();
    },
  };
}
