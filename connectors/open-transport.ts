import { join } from 'node:path';
import type { Settings } from '../config/settings.ts';
import { EmbeddedLogTransport } from './embedded-log/embedded-log.ts';
import { KafkaTransport } from './kafka/kafka-transport.ts';
import type { Transport } from './transport.ts';

/** Kafka when KAFKA_BROKERS is set, else the embedded log under DRIFTLINE_HOME (no server needed). */
export function openTransport(settings: Settings): Transport {
  if (settings.kafkaBrokers?.length) return new KafkaTransport({ brokers: settings.kafkaBrokers, security: settings.kafkaSecurity, outageBudgetMs: settings.kafkaOutageMs });
  return new EmbeddedLogTransport({ dir: join(settings.home, 'log') });
}
