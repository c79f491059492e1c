/** Kafka → JSON decode → map → Kafka through a driftline pipeline; `--root` picks the checkout (a base, or this). */
import { arg, mapValue, startTiming } from './child.ts';
import { decodeJson, KafkaTransport, Pipeline, runPipeline, topicSink, topicSource } from './driftline-modules.ts';

const records = Number(arg('records'));
const output = arg('output');
const producerThread = arg('producer-thread', 'true') === 'true'; // a base checkout may not know the option
const transport = new KafkaTransport({ brokers: arg('brokers').split(','), producerThread });
const p = new Pipeline('peers-kafka-map');
p.from(topicSource(transport, { topic: arg('input'), group: arg('group'), maxBatchRecords: 10_000 }))
  .through(decodeJson('decode'))
  .map('map', mapValue)
  .to(
    topicSink(transport, {
      topic: output,
      partitions: 4,
      serialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
      batchRecords: 2_000,
    }),
  );
const done = startTiming();
const result = await runPipeline(p, { untilIdle: true, pollWaitMs: 50 });
const written = result.metrics.find((m: { stage: string }) => m.stage === `sink:${output}`)?.recordsOut;
if (written !== records) throw new Error(`driftline wrote ${written} of ${records}`);
done(records);
await transport.close();
