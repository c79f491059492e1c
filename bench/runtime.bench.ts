/**
 * Runtime throughput: an identity pipeline on the in-process transport, and Kafka → map → Kafka with 1 KB JSON
 * values on 4 partitions. Prints medians with min/max over repeated runs. Targets on 2 cores: ≥ 1,000,000 rec/s
 * in-process, ≥ 50,000 rec/s through Kafka.
 *   npx tsx bench/runtime.bench.ts [--quick]        (Kafka part needs KAFKA_BROKERS, e.g. after npm run services:up)
 */
import { randomBytes } from 'node:crypto';
import { KafkaTransport } from '../connectors/kafka/kafka-transport.ts';
import { MemoryTransport } from '../streams/kernel/memory/memory-log.ts';
import { topicSink } from '../streams/kernel/transport/topic-sink.ts';
import { topicSource } from '../streams/kernel/transport/topic-source.ts';
import type { Message, Transport } from '../streams/kernel/transport/transport.ts';
import { decodeJson } from '../streams/kernel/operators/basic/decode-json.ts';
import { Pipeline } from '../streams/kernel/pipeline.ts';
import { runPipeline } from '../streams/kernel/runner.ts';
import type { Sink } from '../streams/kernel/sink.ts';
import { formatSpread, spread } from './stats.ts';

const quick = process.argv.includes('--quick');

async function fill(
  transport: Transport,
  topic: string,
  partitions: number,
  count: number,
  value: (i: number) => Buffer,
) {
  await transport.ensureTopic(topic, partitions);
  const producer = await transport.producer();
  for (let start = 0; start < count; start += 10_000) {
    const messages: Message[] = [];
    for (let i = start; i < Math.min(count, start + 10_000); i++)
      messages.push({ key: `k${i}`, value: value(i), timestamp: i, partition: i % partitions });
    await producer.send(topic, messages);
  }
  await producer.close();
}

async function inProcessIdentity(records: number, runs: number) {
  const transport = new MemoryTransport();
  const payload = Buffer.alloc(100, 1);
  await fill(transport, 'in', 4, records, () => payload);
  const rates: number[] = [];
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let run = 0; run < runs + 1; run++) {
    let count = 0;
    const counter: Sink<Buffer> = {
      name: 'count',
      async write(rs) {
        count += rs.length;
      },
    };
    const p = new Pipeline('identity');
    p.from(topicSource(transport, { topic: 'in', group: `g${run}`, maxBatchRecords: 10_000 }))
      .map('identity', (v) => v)
      .to(counter);
    const t0 = performance.now();
    const result = await runPipeline(p, { untilIdle: true, pollWaitMs: 0 });
    const seconds = (performance.now() - t0) / 1000;
    if (count !== records) throw new Error(`identity pipeline delivered ${count} of ${records}`);
    if (run === 0) continue; // warm-up
    rates.push(records / seconds);
    const stage = result.metrics.find((m) => m.stage === 'identity')!;
    p50s.push(stage.batchLatencyP50Ms);
    p99s.push(stage.batchLatencyP99Ms);
  }
  console.log(`in-process identity, ${records.toLocaleString('en-US')} records of 100 B, batches of 10,000:`);
  console.log(`  throughput     ${formatSpread(spread(rates), ' rec/s')}`);
  console.log(`  batch p50      ${formatSpread(spread(p50s), ' ms')}`);
  console.log(`  batch p99      ${formatSpread(spread(p99s), ' ms')}`);
}

async function kafkaMapKafka(brokers: string[], records: number, runs: number) {
  const transport = new KafkaTransport({ brokers });
  const input = `bench-in-${randomBytes(4).toString('hex')}`;
  const pad = 'x'.repeat(1_024 - 40);
  await fill(transport, input, 4, records, (i) => Buffer.from(JSON.stringify({ id: i, pad })));
  const rates: number[] = [];
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let run = 0; run < runs; run++) {
    const output = `bench-out-${randomBytes(4).toString('hex')}`;
    const p = new Pipeline('kafka-map-kafka');
    p.from(
      topicSource(transport, {
        topic: input,
        group: `bench-${randomBytes(4).toString('hex')}`,
        maxBatchRecords: 10_000,
      }),
    )
      .through(decodeJson<{ id: number; pad: string }>('decode'))
      .map('map', (v) => ({ ...v, seen: true }))
      .to(
        topicSink(transport, {
          topic: output,
          partitions: 4,
          serialize: (v) => Buffer.from(JSON.stringify(v)),
          batchRecords: 2_000,
        }),
      );
    const t0 = performance.now();
    const result = await runPipeline(p, { untilIdle: true, pollWaitMs: 50 });
    const seconds = (performance.now() - t0) / 1000;
    const written = result.metrics.find((m) => m.stage === `sink:${output}`)!;
    if (written.recordsOut !== records) throw new Error(`kafka pipeline wrote ${written.recordsOut} of ${records}`);
    rates.push(records / seconds);
    p50s.push(written.batchLatencyP50Ms);
    p99s.push(written.batchLatencyP99Ms);
  }
  await transport.close();
  console.log(
    `Kafka → decode → map → Kafka, ${records.toLocaleString('en-US')} records of 1 KB JSON, 4 partitions (includes ` +
      `group join):`,
  );
  console.log(`  throughput       ${formatSpread(spread(rates), ' rec/s')}`);
  console.log(`  sink batch p50   ${formatSpread(spread(p50s), ' ms')}`);
  console.log(`  sink batch p99   ${formatSpread(spread(p99s), ' ms')}`);
}

await inProcessIdentity(quick ? 500_000 : 2_000_000, quick ? 3 : 5);
const brokers = process.env.KAFKA_BROKERS?.split(',');
if (brokers) await kafkaMapKafka(brokers, quick ? 50_000 : 200_000, quick ? 2 : 3);
else console.log('Kafka part skipped: set KAFKA_BROKERS (npm run services:up starts a broker on 127.0.0.1:9092)');
