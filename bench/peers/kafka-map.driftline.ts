/** Kafka → JSON decode → map → Kafka through a driftline pipeline; `--root` picks the checkout (a base, or this). */
import { resolve } from 'node:path';
import { arg, importFrom, mapValue, startTiming } from './child.ts';

const root = resolve(arg('root', resolve(import.meta.dirname, '..', '..')));
const { KafkaTransport } = await import(`${root}/connectors/kafka/kafka-transport.ts`);
const { topicSource } = await importFrom(
  root,
  'streams/kernel/transport/topic-source.ts',
  'connectors/topic-source.ts',
);
const { topicSink } = await importFrom(root, 'streams/kernel/transport/topic-sink.ts', 'connectors/topic-sink.ts');
const { decodeJson } = await importFrom(
  root,
  'streams/kernel/operators/basic/decode-json.ts',
  'operators/basic/decode-json.ts',
);
const { Pipeline } = await importFrom(root, 'streams/kernel/pipeline.ts', 'streams/pipeline.ts');
const { runPipeline } = await importFrom(root, 'streams/kernel/runner.ts', 'streams/runner.ts');

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
