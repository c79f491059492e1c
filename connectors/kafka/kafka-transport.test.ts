import { transportConformance } from '../../streams/kernel/transport/transport-conformance.ts';
import { KafkaTransport } from './kafka-transport.ts';

// Against the real broker the global setup started (or KAFKA_BROKERS).
transportConformance(
  'kafka',
  async () => new KafkaTransport({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'conformance' }),
  {
    timeoutMs: 60_000,
  },
);

// The same contract with kafkajs' producer on the caller's thread (`producerThread: false`).
transportConformance(
  'kafka, producer on the main thread',
  async () =>
    new KafkaTransport({
      brokers: process.env.KAFKA_BROKERS!.split(','),
      clientId: 'conformance-main-thread',
      producerThread: false,
    }),
  { timeoutMs: 60_000 },
);
