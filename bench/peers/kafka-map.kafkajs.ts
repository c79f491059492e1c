/**
 * Kafka → JSON decode → map → Kafka in plain kafkajs, the library driftline's Kafka transport drives: one consumer
 * in a group, each batch decoded, mapped, re-encoded and sent (acks = all, the key's partition) before its offsets
 * are resolved, as a careful at-least-once kafkajs program does.
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { arg, mapValue, startTiming } from './child.ts';

const records = Number(arg('records'));
const output = arg('output');
const kafka = new Kafka({ clientId: 'peers-raw', brokers: arg('brokers').split(','), logLevel: logLevel.ERROR });
const consumer = kafka.consumer({ groupId: arg('group'), maxBytes: 50 * 1024 * 1024 });
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
const done = startTiming();
await Promise.all([consumer.connect(), producer.connect()]);
await consumer.subscribe({ topic: arg('input'), fromBeginning: true });
let seen = 0;
await new Promise<void>((finish) => {
  void consumer.run({
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      const messages = batch.messages.map((m) => ({
        key: m.key,
        value: Buffer.from(JSON.stringify(mapValue(JSON.parse(m.value!.toString())))),
        timestamp: m.timestamp,
      }));
      await producer.send({ topic: output, acks: -1, messages });
      seen += messages.length;
      if (seen >= records) finish();
    },
  });
});
done(seen);
await Promise.all([consumer.disconnect(), producer.disconnect()]);
