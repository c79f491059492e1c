/** Tumbling 1 h count per key over the NAB events topic, Kafka to Kafka, through a driftline pipeline (`--root`). */
import { arg, startTiming } from './child.ts';
import {
  decodeJson,
  KafkaTransport,
  Pipeline,
  runPipeline,
  topicSink,
  topicSource,
  tumbling,
} from './driftline-modules.ts';

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
