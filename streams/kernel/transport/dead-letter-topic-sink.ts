import type { Sink } from '../sink.ts';
import { safeText, toWellFormed } from '../well-formed-text.ts';
import { type DeadLetter, MAX_REASON_CHARS, type StreamRecord } from '../record.ts';
import type { Message, Producer, Transport } from './transport.ts';

export const deadLetterTopic = (topic: string) => `${topic}.dlq`;

/**
 * Writes each dead letter to `topic`, or by default to `<source topic>.dlq`: the original bytes as the value and the
 * reason, stage and source position as headers (the Kafka Connect convention), so a fixed record can be re-produced as
 * it was. Key and headers are made valid Unicode and the reason bounded, as in the `dead_letters` table: a dead
 * letter's own write must not fail (dead-letter-row.ts).
 */
export function deadLetterTopicSink(transport: Transport, topic?: string): Sink<DeadLetter> {
  let producer: Promise<Producer> | undefined;
  const ensured = new Set<string>();
  return {
    name: 'dead-letters',
    async write(records: StreamRecord<DeadLetter>[]) {
      producer ??= transport.producer();
      const byTopic = new Map<string, Message[]>();
      for (const { value: d } of records) {
        const target = topic ?? deadLetterTopic(d.position.topic);
        let list = byTopic.get(target);
        if (!list) {
          list = [];
          byTopic.set(target, list);
        }
        list.push({
          key: d.key === null ? null : toWellFormed(d.key),
          value: d.original,
          timestamp: d.failedAt,
          headers: {
            'dlq.stage': toWellFormed(d.stage),
            'dlq.error': safeText(d.error, MAX_REASON_CHARS),
            'dlq.topic': toWellFormed(d.position.topic),
            'dlq.partition': String(d.position.partition),
            'dlq.offset': String(d.position.offset),
            'dlq.event_time': String(d.eventTime),
          },
          origin: d.position,
        });
      }
      const p = await producer;
      for (const [target, messages] of byTopic) {
        if (!ensured.has(target)) {
          await transport.ensureTopic(target, 1);
          ensured.add(target);
        }
        await p.send(target, messages);
      }
    },
    async close() {
      if (producer) await (await producer).close();
    },
  };
}
