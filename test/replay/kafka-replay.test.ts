import { afterAll, describe, expect, it } from 'vitest';
import { readRecordedTopics } from '../../connectors/replay/recorded-topic.ts';
import type { Transport } from '../../streams/kernel/transport/transport.ts';
import { dataFile } from '../data-dir.ts';
import { driftlineOk } from '../e2e/cli.ts';
import { readAll, testKafka, uniqueName } from '../kafka/kafka-test-helpers.ts';
import { iso, nabTimestamps, replay, replayTopic, tempHome, warehouseSnapshot } from './replay-helpers.ts';

const kafka = testKafka();
afterAll(() => kafka.close());

const NYC_TAXI = dataFile('events/nab/data/realKnownCause/nyc_taxi.csv');
type Window = { key: string; start: number; end: number; count: number; value: unknown };
const byStartThenKey = (a: Window, b: Window) => a.start - b.start || a.key.localeCompare(b.key);

describe('KafkaTransport.offsetsForTime', () => {
  it('gives, per partition, the first offset at or after a time and the end offset', async () => {
    const topic = uniqueName('oft');
    await kafka.ensureTopic(topic, 2);
    const producer = await kafka.producer();
    const at = (partition: number, timestamps: number[]) =>
      timestamps.map((timestamp) => ({ key: null, value: Buffer.from('x'), timestamp, partition }));
    await producer.send(topic, [...at(0, [1_000, 2_000, 3_000]), ...at(1, [1_500, 2_500])]);
    await producer.close();
    const sorted = async (t: number) =>
      (await kafka.offsetsForTime(topic, t)).sort((a, b) => a.partition - b.partition);

    expect(await sorted(2_000)).toEqual([
      { partition: 0, offset: 1, end: 3 },
      { partition: 1, offset: 1, end: 2 },
    ]);
    expect(await sorted(2_001)).toEqual([
      { partition: 0, offset: 2, end: 3 },
      { partition: 1, offset: 1, end: 2 },
    ]);
    expect(await sorted(Number.NEGATIVE_INFINITY)).toEqual([
      { partition: 0, offset: 0, end: 3 },
      { partition: 1, offset: 0, end: 2 },
    ]);
    expect(await sorted(9_000)).toEqual([
      { partition: 0, offset: 3, end: 3 },
      { partition: 1, offset: 2, end: 2 },
    ]);
    expect(await kafka.offsetsForTime(uniqueName('missing'), 0)).toEqual([]);

    // A replay from 2,000 starts each partition there: nothing before is even fetched, and nothing is committed.
    const delivered: number[][] = [[], []];
    const spying: Transport = {
      kind: kafka.kind,
      ensureTopic: (t, n) => kafka.ensureTopic(t, n),
      producer: () => kafka.producer(),
      offsetsForTime: (t, time) => kafka.offsetsForTime(t, time),
      close: async () => {},
      async consumer(options) {
        const consumer = await kafka.consumer(options);
        return {
          ...consumer,
          async poll(waitMs) {
            const batches = await consumer.poll(waitMs);
            for (const b of batches) delivered[b.partition]!.push(...b.messages.map((m) => m.offset));
            return batches;
          },
          async commit() {
            throw new Error('a replay must not commit');
          },
        };
      },
    };
    const read: number[] = [];
    for await (const batch of readRecordedTopics(
      spying,
      [topic, uniqueName('never-recorded')],
      { from: 2_000, to: 3_000 },
      uniqueName('replay-group'),
    ))
      read.push(...batch.map((m) => m.timestamp));
    expect(read.sort()).toEqual([2_000, 2_500]);
    expect(delivered).toEqual([[1, 2], [1]]);
  });
});

describe('driftline replay on a recorded Kafka topic', () => {
  it('replays identically twice, gives the live run’s windows and metrics, selects exactly --from/--to', async () => {
    const prefix = `${uniqueName('replay')}.`;
    // Real broker for the topics; each run its own embedded DuckDB warehouse, so rows of the runs can be compared.
    const env = (home: string) => ({
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      DRIFTLINE_TOPIC_PREFIX: prefix,
      CLICKHOUSE_URL: '',
      DRIFTLINE_HOME: home,
    });
    const liveHome = tempHome('live');
    await driftlineOk(['produce', 'events', NYC_TAXI], env(liveHome));
    // One series, one key, produced from a sorted file: the input lands in one partition of the 4, in event-time
    // order, so the live windows see what the replay sees. (Partitions out of time order need allowedLatenessMinutes
    // covering the disorder: the replay puts them in order, so it drops nothing as late.)
    const liveOutput = await driftlineOk(['run', 'events', '--until-idle'], env(liveHome));
    const liveRunId = /: run (\S+) done/.exec(liveOutput)?.[1] ?? '';
    expect(liveRunId).not.toBe('');

    const times = nabTimestamps(NYC_TAXI);
    const range = ['--from', iso(Math.min(...times)), '--to', iso(Math.max(...times) + 1)];
    const homes = [tempHome('kafka-a'), tempHome('kafka-b')];
    const runIds = [
      await replay(['events', ...range], env(homes[0]!)),
      await replay(['events', ...range, '--run-id', 'replay-again'], env(homes[1]!)),
    ];
    const [first, second] = [
      await warehouseSnapshot(homes[0]!, runIds[0]!),
      await warehouseSnapshot(homes[1]!, runIds[1]!),
    ];
    expect(first!.events).toHaveLength(times.length);
    for (const table of Object.keys(first!)) expect(second![table], table).toEqual(first![table]);

    // The live run and its replay: same windows, same rows (pipeline metrics included) in every table.
    const liveWindows = (await readAll(kafka, `${prefix}events.windows`)).map(
      (m) => JSON.parse(m.value.toString()) as Window,
    );
    const replayWindows = (await replayTopic(homes[0]!, runIds[0]!, `${prefix}events.windows`)) as Window[];
    expect(liveWindows.reduce((n, w) => n + w.count, 0)).toBe(times.length);
    expect(replayWindows.sort(byStartThenKey)).toEqual(liveWindows.sort(byStartThenKey));
    const live = await warehouseSnapshot(liveHome, liveRunId);
    for (const table of Object.keys(first!)) expect(first![table], table).toEqual(live[table]);

    // A middle third of the time range: offsets for --from on Kafka, exactly the records in range.
    const from = times[Math.floor(times.length / 3)]!;
    const to = times[Math.floor((2 * times.length) / 3)]!;
    const partHome = tempHome('kafka-part');
    const partRun = await replay(['events', '--from', iso(from), '--to', iso(to)], env(partHome));
    const part = await warehouseSnapshot(partHome, partRun);
    const replayed = part.events!.map((r) => JSON.parse(r).ts as number).sort((a, b) => a - b);
    expect(replayed).toEqual(times.filter((t) => t >= from && t < to).sort((a, b) => a - b));
  }, 240_000);
});
