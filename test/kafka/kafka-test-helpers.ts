import { randomBytes } from 'node:crypto';
import { KafkaTransport } from '../../connectors/kafka/kafka-transport.ts';
import type { Transport } from '../../streams/kernel/transport/transport.ts';

/** The broker the global setup started (or the one KAFKA_BROKERS points at). */
export function testKafka(): KafkaTransport {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers)
    throw new Error('KAFKA_BROKERS is not set: run the tests through vitest (the global setup starts Kafka)');
  return new KafkaTransport({ brokers: brokers.split(','), clientId: 'driftline-test' });
}

export const uniqueName = (base: string) => `${base}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** Reads a whole topic from the beginning with a throwaway group, until caught up. */
export async function readAll(
  transport: Transport,
  topic: string,
  timeoutMs = 60_000,
): Promise<{ key: string | null; value: Buffer; headers: Record<string, string> }[]> {
  const consumer = await transport.consumer({ group: uniqueName('reader'), topics: [topic] });
  const out: { key: string | null; value: Buffer; headers: Record<string, string> }[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const batches = await consumer.poll(200);
      for (const b of batches)
        for (const m of b.messages) out.push({ key: m.key, value: m.value, headers: m.headers ?? {} });
      if (batches.length === 0 && (await consumer.caughtUp())) return out;
      if (Date.now() > deadline)
        throw new Error(`reading ${topic} did not catch up within ${timeoutMs} ms (${out.length} read)`);
    }
  } finally {
    await consumer.close();
  }
}
