/** Tumbling 1 h count per key over the NAB events topic, Kafka to Kafka, through a driftline pipeline (`--root`). */
import { resolve } from 'node:path';
import { arg, importFrom, startTiming } from './child.ts';

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
const { tumbling } = await importFrom(
  root,
  'streams/kernel/operators/window/window-spec.ts',
  'operators/window/window-spec.ts',
);
const { Pipeline } = await importFrom(root, 'streams/kernel/pipeline.ts', 'streams/pipeline.ts');
const { runPipeline } = await importFrom(root, 'streams/kernel/runner.ts', 'streams/runner.ts');

const records = Number(arg('records'));
const input = arg('input');
const transport = new KafkaTransport({ brokers: arg('brokers').split(',') });
const p = new Pipeline('peers-window');
p.from(topicSource(transport, { topic: input, group: arg('group'), maxBatchRecords: 10_000 }))
  .through(decodeJson('decode'))
  .window('count', { spec: tumbling(3_600_000), init: () => 0, add: (n: number) => n + 1 })
  .to(
    topicSink(transport, {
      topic: arg('output'),
      partitions: 4,
      serialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
      batchRecords: 2_000,
    }),
  );
const done = startTiming();
const result = await runPipeline(p, { untilIdle: true, pollWaitMs: 50 });
const read = result.metrics.find((m: { stage: string }) => m.stage === 'decode')?.recordsIn;
if (read !== records) throw new Error(`driftline read ${read} of ${records}`);
done(records);
await transport.close();
