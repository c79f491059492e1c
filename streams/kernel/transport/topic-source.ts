import type { StreamRecord } from '../record.ts';
import type { Source, SourceBatch } from '../source.ts';
import type { Consumer, PartitionOffset, TopicPartition, Transport } from './transport.ts';

export interface TopicSourceOptions {
  topic?: string;
  /** Several topics read as one source (e.g. a pipeline's input and `labels`); records keep `position.topic`. */
  topics?: string[];
  group: string;
  /** Partitions to create the topics with if they do not exist yet. */
  partitions?: number;
  maxBatchRecords?: number;
  fromBeginning?: boolean;
}

/** Reads a topic (or several) of any transport as raw bytes; the first operator of a pipeline decodes them. */
export function topicSource(transport: Transport, options: TopicSourceOptions): Source<Buffer> {
  const topics = [...new Set([...(options.topic === undefined ? [] : [options.topic]), ...(options.topics ?? [])])];
  if (topics.length === 0) throw new Error('topicSource needs a topic (or topics)');
  let consumer: Consumer | undefined;
  const revokeListeners: Array<(partitions: TopicPartition[]) => void> = [];
  const connect = async () => {
    if (consumer) return consumer;
    for (const topic of topics) await transport.ensureTopic(topic, options.partitions ?? 1);
    consumer = await transport.consumer({
      group: options.group,
      topics,
      fromBeginning: options.fromBeginning ?? true,
      maxBatchRecords: options.maxBatchRecords,
    });
    for (const l of revokeListeners) consumer.onRevoked(l);
    return consumer;
  };
  return {
    name: `source:${topics.join('+')}`,
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
