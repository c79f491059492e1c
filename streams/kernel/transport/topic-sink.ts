import type { StreamRecord } from '../record.ts';
import type { Sink } from '../sink.ts';
import type { Message, Producer, Transport } from './transport.ts';

export interface TopicSinkOptions<T> {
  topic: string;
  /** Partitions to create the topic with if it does not exist yet. */
  partitions?: number;
  serialize: (value: T) => Buffer;
  batchRecords?: number;
  /** Produce requests in flight at once (default 4, like Kafka's max.in.flight). */
  concurrency?: number;
}

/** Writes records to a topic; acknowledged once the log has accepted them. */
export function topicSink<T>(transport: Transport, options: TopicSinkOptions<T>): Sink<T> {
  let producer: Promise<Producer> | undefined;
  const connect = () =>
    (producer ??= transport.ensureTopic(options.topic, options.partitions ?? 1).then(() => transport.producer()));
  return {
    name: `sink:${options.topic}`,
    batchRecords: options.batchRecords,
    concurrency: options.concurrency ?? 4,
    async write(records: StreamRecord<T>[]) {
      const messages: Message[] = new Array(records.length);
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        messages[i] = {
          key: r.key,
          value: options.serialize(r.value),
          timestamp: r.eventTime,
          headers: r.headers,
          origin: r.position,
        };
      }
      await (await connect()).send(options.topic, messages);
    },
    async close() {
      if (producer) await (await producer).close();
    },
  };
}

export const jsonBytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
