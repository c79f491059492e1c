import { join } from 'node:path';
import type { Settings } from '../config/settings.ts';
import { EmbeddedLogTransport } from './embedded-log/embedded-log.ts';
import { KafkaTransport } from './kafka/kafka-transport.ts';
import type { Transport } from '../streams/kernel/transport/transport.ts';

export interface OpenTransportOptions {
  /** Topic-to-topic output in Kafka transactions with the consumer's offsets (kafka/transaction-outbox.ts). */
  exactlyOnce?: boolean;
}

/** Kafka when KAFKA_BROKERS is set, else the embedded log under DRIFTLINE_HOME (no server needed). */
export function openTransport(settings: Settings, options: OpenTransportOptions = {}): Transport {
  if (settings.kafkaBrokers?.length) {
    return new KafkaTransport({
      brokers: settings.kafkaBrokers,
      security: settings.kafkaSecurity,
      outageBudgetMs: settings.kafkaOutageMs,
      exactlyOnce: options.exactlyOnce,
    });
  }
  if (options.exactlyOnce)
    throw new Error('--exactly-once needs Kafka transactions: set KAFKA_BROKERS (the embedded log has none)');
  return new EmbeddedLogTransport({ dir: join(settings.home, 'log') });
}
