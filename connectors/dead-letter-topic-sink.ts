import type { DeadLetter, StreamRecord } from '../streams/record.ts';
import type { Sink } from '../streams/sink.ts';
import type { Message, Producer, Transport } from './transport.ts';

export const deadLetterTopic = (topic: string) => `${topic}.dlq`;

/**
 * Writes each dead letter to `<source topic>.dlq`: the original bytes as the value and the reason, stage and
 * source position as headers (the Kafka Connect convention), so a fixed record can be re-produced as it was.
 */
export function deadLetterTopicSink(transport: Transport): Sink<DeadLetter> {
  let producer: Promise<Producer> | undefined;
  const ensured = new Set<string>();
  return {
    name: 'dead-letters',
    async write(records: StreamRecord<DeadLetter>[]) {
      producer ??= transport.producer();
      const byTopic = new Map<string, Message[]>();
      for (const { value: d } of records) {
        const topic = deadLetterTopic(d.position.topic);
        let list = byTopic.get(topic);
        if (!list) byTopic.set(topic, (list = []));
        list.push({
          key: d.key,
          value: d.original,
          timestamp: d.failedAt,
          headers: {
            'dlq.stage': d.stage,
            'dlq.error': d.error,
            'dlq.topic': d.position.topic,
            'dlq.partition': String(d.position.partition),
            'dlq.offset': String(d.position.offset),
            'dlq.event_time': String(d.eventTime),
          },
        });
      }
      const p = await producer;
      for (const [topic, messages] of byTopic) {
        if (!ensured.has(topic)) {
          await transport.ensureTopic(topic, 1);
          ensured.add(topic);
        }
        await p.send(topic, messages);
      }
    },
    async close() {
      if (producer) await (await producer).close();
    },
  };
}
