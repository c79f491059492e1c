/**
 * A worker process for the crash test: Kafka topic → decode → tag → Kafka topic, in a consumer group.
 * Usage: tsx test/kafka/copy-worker.ts <input topic> <group> <output topic>. Stops cleanly on SIGTERM.
 */
import { KafkaTransport } from '../../connectors/kafka/kafka-transport.ts';
import { topicSink, jsonBytes } from '../../streams/kernel/transport/topic-sink.ts';
import { topicSource } from '../../streams/kernel/transport/topic-source.ts';
import { decodeJson } from '../../streams/kernel/operators/basic/decode-json.ts';
import { Pipeline } from '../../streams/kernel/pipeline.ts';
import { runPipeline } from '../../streams/kernel/runner.ts';

const [input, group, output] = process.argv.slice(2);
const transport = new KafkaTransport({ brokers: process.env.KAFKA_BROKERS!.split(','), sessionTimeoutMs: 6_000 });
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());

const p = new Pipeline('copy');
p.from(topicSource(transport, { topic: input!, group: group!, maxBatchRecords: 2_000 }))
  .through(decodeJson<{ i: number }>('decode'))
  .map('tag', (v) => ({ i: v.i, worker: process.pid }))
  .to(topicSink(transport, { topic: output!, partitions: 4, serialize: jsonBytes }));

const result = await runPipeline(p, { signal: stop.signal, commitIntervalMs: 200 });
process.stderr.write(
  `worker ${process.pid} done: ${result.metrics.find((m) => m.stage === 'tag')?.recordsOut} records\n`,
);
await transport.close();
