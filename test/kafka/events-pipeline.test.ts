import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { ModelRegistry } from '../../models/registry/registry.ts';
import { readEventFile } from '../../connectors/files/event-files.ts';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryTransport } from '../../streams/kernel/memory/memory-log.ts';
import { topicSource } from '../../streams/kernel/transport/topic-source.ts';
import type { Message, Transport } from '../../streams/kernel/transport/transport.ts';
import { eventsPipeline } from '../../streams/pipelines/events.ts';
import { runPipeline } from '../../streams/kernel/runner.ts';
import { dataFile } from '../data-dir.ts';
import { readAll, testKafka, uniqueName } from './kafka-test-helpers.ts';

const kafka = testKafka();
afterAll(() => kafka.close());

const NYC_TAXI_ROWS = 10_320;
const ts = '2014-07-01 00:00:00';
const badInputs: Array<{ bytes: Buffer; reason: string | RegExp }> = [
  { bytes: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), reason: 'value is not valid UTF-8' },
  { bytes: Buffer.from(`{"key":"nyc_taxi","timestamp":"${ts}","value":`), reason: /^value is not valid JSON/ },
  {
    bytes: Buffer.from(`{"key":"nyc_taxi","timestamp":"${ts}","value":"many"}`),
    reason: 'event "value" must be a finite number, got "many"',
  },
  {
    bytes: Buffer.from(`{"key":"nyc_taxi","timestamp":"yesterday","value":1}`),
    reason: 'event "timestamp" is not a date: "yesterday"',
  },
  { bytes: Buffer.from(`[1,2,3]`), reason: 'event must be a JSON object' },
  {
    bytes: Buffer.from(`{"key":"nyc_taxi","timestamp":"${ts}","value":1,"pad":"${'x'.repeat(5 * 1024 * 1024)}"}`),
    reason: /^value is 52429\d\d bytes, above the 1048576-byte limit$/,
  },
];

/** NYC taxi counts with the bad inputs mixed in after the first batch, through the real `events` definition. */
async function runEvents(transport: Transport, prefix: string) {
  const settings = { ...loadSettings({}), topicPrefix: prefix };
  const input = `${prefix}events`;
  await transport.ensureTopic(input, eventsPipeline.partitions);
  const producer = await transport.producer();
  let first = true;
  for await (const batch of readEventFile(dataFile('events/nab/data/realKnownCause/nyc_taxi.csv'))) {
    await producer.send(input, batch);
    if (first) {
      const bad: Message[] = badInputs.map((b, i) => ({
        key: `bad-${i}`,
        value: b.bytes,
        timestamp: 1_404_172_800_000,
      }));
      for (const m of bad) await producer.send(input, [m]); // one at a time: the 5 MB one alone in its request
      first = false;
    }
  }
  await producer.close();

  const source = topicSource(transport, {
    topic: input,
    group: `${prefix}group`,
    partitions: eventsPipeline.partitions,
  });
  const warehouse = await openWarehouse({ home: mkdtempSync(join(tmpdir(), 'driftline-events-')) });
  await warehouse.ensureTables();
  const pipeline = eventsPipeline.build(source, {
    transport,
    warehouse,
    models: ModelRegistry.fromSettings(settings),
    settings,
    options: { windowMinutes: 24 * 60 },
  });
  const committed = new Map<number, number>();
  const result = await runPipeline(pipeline, {
    untilIdle: true,
    onCommit: (o) =>
      o.forEach((x) => {
        committed.set(x.partition, x.offset);
      }),
  });

  const windows = (await readAll(transport, `${prefix}events.windows`)).map((m) => JSON.parse(m.value.toString()));
  windows.sort((a, b) => a.start - b.start || a.key.localeCompare(b.key));
  const dead = await readAll(transport, `${prefix}events.dlq`);
  dead.sort((a, b) => a.key!.localeCompare(b.key!));
  const [{ n: eventRows }] = (await warehouse.query('SELECT count(*) AS n FROM events')) as [{ n: number }];
  const [{ n: deadRows }] = (await warehouse.query('SELECT count(*) AS n FROM dead_letters')) as [{ n: number }];
  await warehouse.close();
  return {
    eventRows: Number(eventRows),
    deadRows: Number(deadRows),
    result,
    windows,
    dead,
    committedTotal: [...committed.values()].reduce((a, b) => a + b, 0),
  };
}

describe('the events pipeline on a real Kafka broker', () => {
  it('dead-letters bad records with reason and bytes, delivers valid ones, matches the in-memory run', async () => {
    const onKafka = await runEvents(kafka, `${uniqueName('ev')}.`);
    const inMemory = await runEvents(new MemoryTransport(), 'mem.');

    for (const run of [onKafka, inMemory]) {
      // Every valid row is counted in exactly one daily window.
      expect(run.windows.reduce((sum, w) => sum + w.value.count, 0)).toBe(NYC_TAXI_ROWS);
      expect(run.windows.length).toBe(215); // 215 days of half-hourly counts
      expect(run.dead.length).toBe(badInputs.length);
      run.dead.forEach((d, i) => {
        expect(d.value.equals(badInputs[i]!.bytes)).toBe(true);
        expect(d.headers['dlq.error']).toMatch(badInputs[i]!.reason);
        expect(d.headers['dlq.stage']).toBe('decode');
        expect(Number(d.headers['dlq.offset'])).toBeGreaterThanOrEqual(0);
      });
      // A clean end of input commits everything that was read.
      expect(run.committedTotal).toBe(NYC_TAXI_ROWS + badInputs.length);
      expect(run.result.deadLetters).toBe(badInputs.length);
      // …and the embedded warehouse holds every valid event and every dead letter.
      expect(run.eventRows).toBe(NYC_TAXI_ROWS);
      expect(run.deadRows).toBe(badInputs.length);
    }
    // Same definition, same input, two transports: identical windows and dead letters.
    expect(onKafka.windows).toEqual(inMemory.windows);
    expect(onKafka.dead.map((d) => d.headers['dlq.error'])).toEqual(inMemory.dead.map((d) => d.headers['dlq.error']));
  }, 180_000);
});
