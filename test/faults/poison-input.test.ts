/**
 * Issue 16's fault-and-abuse probes: poison input is a dead letter, never a stop. Every run here ends with
 * records in = landed + dead-lettered, exactly, on DuckDB and on ClickHouse, in process and through the CLI on
 * Kafka and on the embedded log.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings, type Settings } from '../../config/settings.ts';
import { ModelRegistry } from '../../models/registry/registry.ts';
import { fileSource } from '../../connectors/files/file-source.ts';
import { MemoryTransport } from '../../streams/kernel/memory/memory-log.ts';
import { openTransport } from '../../connectors/open-transport.ts';
import { topicSource } from '../../streams/kernel/transport/topic-source.ts';
import { deadLetterRow } from '../../connectors/warehouse/dead-letter-row.ts';
import { POISON_LETTERS } from '../../connectors/warehouse/fixtures/poison-letters.ts';
import { type Warehouse, openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { decodeJson } from '../../streams/kernel/operators/basic/decode-json.ts';
import { Pipeline } from '../../streams/kernel/pipeline.ts';
import { eventsPipeline } from '../../streams/pipelines/events.ts';
import { pipelineDeadLetters } from '../../streams/pipelines/dead-letters.ts';
import type { PipelineDefinition } from '../../streams/pipelines/pipeline-definition.ts';
import { postingsPipeline } from '../../streams/pipelines/postings.ts';
import type { DeadLetter } from '../../streams/kernel/record.ts';
import { runPipeline } from '../../streams/kernel/runner.ts';
import { dataFile } from '../data-dir.ts';
import { driftline, exitOf } from '../e2e/cli.ts';
import { readAll, testKafka, uniqueName } from '../kafka/kafka-test-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'driftline-poison-'));
const database = `driftline_poison_${Date.now().toString(36)}`;
const warehouses: Record<'duckdb' | 'clickhouse', Warehouse> = {} as never;
beforeAll(async () => {
  warehouses.duckdb = await openWarehouse({ home: join(dir, 'home') });
  warehouses.clickhouse = await openWarehouse(
    { home: join(dir, 'home'), clickhouseUrl: process.env.CLICKHOUSE_URL },
    { clickhouseDatabase: database },
  );
  for (const w of Object.values(warehouses)) await w.ensureTables();
});
afterAll(async () => {
  await warehouses.clickhouse?.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
  for (const w of Object.values(warehouses)) await w?.close();
});
const KINDS = ['duckdb', 'clickhouse'] as const;

/**
 * Writes `name` under a folder of its own (an events CSV's source is its folder name): a scenario's rows stay apart.
 */
function inputFile(folder: string, name: string, content: string | Buffer): string {
  mkdirSync(join(dir, folder), { recursive: true });
  const path = join(dir, folder, name);
  writeFileSync(path, content);
  return path;
}

const num = (v: unknown) => Number(v);
async function one(w: Warehouse, sql: string): Promise<Record<string, unknown>> {
  return (await w.query(sql))[0]!;
}

/**
 * Runs a pipeline definition over files in process (as `run --input` does), dead letters also to a memory `.dlq` topic.
 */
async function runFiles(definition: PipelineDefinition, files: string[], warehouse: Warehouse) {
  const transport = new MemoryTransport();
  const settings: Settings = { ...loadSettings({}), home: join(dir, 'home'), dataDir: undefined };
  const source = fileSource(files, (f) => definition.read(f));
  const result = await runPipeline(
    definition.build(source, {
      transport,
      warehouse,
      models: ModelRegistry.fromSettings(settings),
      settings,
      options: {},
    }),
    { untilIdle: true },
  );
  const dlq = result.deadLetters > 0 ? await readAll(transport, `${definition.inputTopic}.dlq`, 10_000) : [];
  const topic =
    source.name === 'source:files' ? `files:${files[0]}${files.length > 1 ? ` (+${files.length - 1})` : ''}` : '';
  const stored = await one(warehouse, `SELECT count(*) AS n FROM dead_letters WHERE topic = '${topic}'`);
  return { result, dlq, deadLetterRows: num(stored.n) };
}

const NAB_START = Date.UTC(2014, 6, 1);
const nabTime = (i: number) => new Date(NAB_START + i * 300_000).toISOString().slice(0, 19).replace('T', ' ');

describe('poison input is a dead letter, never a stop', () => {
  it('event times 9e18, -1e308, 2^63, 1.5 and a lone-surrogate key are dead letters; the rest lands', async () => {
    const probes = [
      {
        line: '{"key":"s","timestamp":9e18,"value":1}',
        reason: 'event "timestamp" 9000000000000000000 is past 2199 (event times must be before 2200-01-01T00:00:00Z)',
      },
      {
        line: '{"key":"s","timestamp":-1e308,"value":1}',
        reason: 'event "timestamp" -1e+308 is before 1970-01-01T00:00:00Z',
      },
      {
        line: '{"key":"s","timestamp":9223372036854775808,"value":1}',
        reason: 'event "timestamp" 9223372036854776000 is past 2199 (event times must be before 2200-01-01T00:00:00Z)',
      },
      {
        line: '{"key":"s","timestamp":1.5,"value":1}',
        reason: 'event "timestamp" 1.5 is not a whole number of milliseconds',
      },
      {
        line: '{"key":"x\\ud800","timestamp":"2014-07-01 00:00:00","value":1}',
        reason: 'event key "x\\ud800" is not valid Unicode (a lone UTF-16 surrogate)',
      },
    ];
    for (const kind of KINDS) {
      const source = `probes-${kind}`;
      const lines: string[] = [];
      for (let i = 0; i < 20; i++) {
        lines.push(JSON.stringify({ source, key: 's', timestamp: nabTime(i), value: i }));
        if (i % 4 === 1) lines.push(probes[(i - 1) / 4]!.line);
      }
      const file = inputFile(source, 'probes.jsonl', `${lines.join('\n')}\n`);
      const w = warehouses[kind];
      const { result, dlq, deadLetterRows } = await runFiles(eventsPipeline, [file], w);
      const landed = num((await one(w, `SELECT count(DISTINCT id) AS n FROM events WHERE source = '${source}'`)).n);
      expect({ kind, in: result.recordsIn, landed, dead: result.deadLetters, deadLetterRows }).toEqual({
        kind,
        in: 25,
        landed: 20,
        dead: 5,
        deadLetterRows: 5,
      });
      expect(dlq.map((m) => m.headers['dlq.error'])).toEqual(probes.map((p) => p.reason));
      expect(dlq.map((m) => m.value.toString())).toEqual(probes.map((p) => p.line));
      const rows = await w.query(
        `SELECT error, event_time, event_time_original FROM dead_letters WHERE topic = 'files:${file}' ORDER BY ` +
          `"offset"`,
      );
      expect(rows.map((r) => r.error)).toEqual(probes.map((p) => p.reason));
      console.log(`${kind}: probes ${result.recordsIn} in = ${landed} landed + ${result.deadLetters} dead letters`);
    }
  });

  it('a NAB CSV with a stray quote: 199 of 200 rows land, the bad line dead-lettered with its number', async () => {
    for (const kind of KINDS) {
      const source = `stray-${kind}`;
      const rows = Array.from({ length: 200 }, (_, i) => `${nabTime(i)},${i}.25`);
      // an opening quote never closed: csv-parse would read the rest of the file as one field
      rows[99] = rows[99]!.replace(',', ',"');
      const file = inputFile(source, 'stray_quote.csv', `timestamp,value\n${rows.join('\n')}\n`);
      const w = warehouses[kind];
      const { result, dlq, deadLetterRows } = await runFiles(eventsPipeline, [file], w);
      const landed = num((await one(w, `SELECT count(DISTINCT id) AS n FROM events WHERE source = '${source}'`)).n);
      expect({ in: result.recordsIn, landed, dead: result.deadLetters, deadLetterRows }).toEqual({
        in: 200,
        landed: 199,
        dead: 1,
        deadLetterRows: 1,
      });
      expect(dlq[0]!.headers['dlq.error']).toBe(
        'stray_quote.csv line 101: Quote Not Closed: the parsing is finished with an opening quote',
      );
      expect(dlq[0]!.value.toString()).toBe(rows[99]);
    }
  });

  it('NAB rows with one series and time but different values are all kept: 23 in realKnownCause (both)', async () => {
    const files = ['ec2_request_latency_system_failure', 'machine_temperature_system_failure'].map((s) =>
      dataFile('events', 'nab', 'data', 'realKnownCause', `${s}.csv`),
    );
    for (const kind of KINDS) {
      const w = warehouses[kind];
      const { result } = await runFiles(eventsPipeline, files, w);
      const keys = files.map((f) => `'${basename(f, '.csv')}'`).join(', ');
      const counts = await one(
        w,
        `SELECT count(DISTINCT id) AS n, count(DISTINCT concat(key, '/', CAST(ts AS String))) AS times FROM events ` +
          `WHERE source = 'realKnownCause' AND key IN (${keys})`,
      );
      expect({ in: result.recordsIn, landed: num(counts.n), dead: result.deadLetters }).toEqual({
        in: 4_032 + 22_695,
        landed: 4_032 + 22_695,
        dead: 0,
      });
      expect(num(counts.n) - num(counts.times)).toBe(23); // before: collapsed into their first row, without a word
    }
  });

  it('a posting whose title is only NULs or description only control characters is a dead letter (both)', async () => {
    const posting = (i: number, over: Record<string, unknown> = {}) =>
      JSON.stringify({
        url: `https://www.linkedin.com/jobs/view/${7700 + i}`,
        job_posting_id: String(7700 + i),
        job_title: `Data Engineer ${i}`,
        company_name: 'Acme',
        job_location: 'Bronx, NY',
        job_summary: 'Build pipelines.',
        job_posted_time: '1 week ago',
        job_description_formatted: `<p>Pipelines ${i}.</p>`,
        timestamp: '2024-12-22T09:16:55.951Z',
        ...over,
      });
    for (const kind of KINDS) {
      const lines = [
        posting(1),
        posting(2, { job_title: '\u0000\u0000\u0000' }),
        posting(3),
        posting(4, { job_description_formatted: '<p>\u0001\u0002\u200b</p>', job_summary: null }),
        posting(5),
      ];
      const file = inputFile(`postings-${kind}`, 'scrape.ndjson', `${lines.join('\n')}\n`);
      const w = warehouses[kind];
      const { result, dlq, deadLetterRows } = await runFiles(postingsPipeline, [file], w);
      const landed = num(
        (
          await one(
            w,
            `SELECT count(DISTINCT id) AS n FROM postings WHERE id IN ('7701', '7702', '7703', '7704', '7705')`,
          )
        ).n,
      );
      expect({ in: result.recordsIn, landed, dead: result.deadLetters, deadLetterRows }).toEqual({
        in: 5,
        landed: 3,
        dead: 2,
        deadLetterRows: 2,
      });
      expect(dlq.map((m) => m.headers['dlq.error'])).toEqual([
        'title has no visible characters (only control or format characters, e.g. NUL)',
        'description has no visible characters (only control or format characters, e.g. NUL)',
      ]);
    }
  });

  it('a row a warehouse refuses is dead-lettered with its message, counted, and committed past (both)', async () => {
    for (const kind of KINDS) {
      const transport = new MemoryTransport();
      await transport.ensureTopic('in', 1);
      const producer = await transport.producer();
      await producer.send(
        'in',
        Array.from({ length: 100 }, (_, i) => ({
          key: `k${i}`,
          value: Buffer.from(JSON.stringify({ i })),
          timestamp: NAB_START + i,
        })),
      );
      const w = warehouses[kind];
      const settings: Settings = { ...loadSettings({}), home: join(dir, 'home') };
      const p = new Pipeline('refused').deadLetters(
        pipelineDeadLetters(
          { transport, warehouse: w, models: ModelRegistry.fromSettings(settings), settings, options: {} },
          'in',
        ),
      );
      // Every tenth row carries a value the table cannot hold: DuckDB's row check refuses it, ClickHouse the INSERT
      // (validation off).
      p.from(topicSource(transport, { topic: 'in', group: 'g', maxBatchRecords: 30 }))
        .through(decodeJson<{ i: number }>('decode'))
        .to(
          w.sink<{ i: number }>(
            'events',
            (r) => ({
              id: `refused-${kind}/${r.value.i}`,
              version: 0,
              source: `refused-${kind}`,
              key: 'k',
              ts: r.value.i,
              value: r.value.i % 10 === 0 ? 'lots' : r.value.i,
              attributes: '{}',
            }),
            { validate: false },
          ),
        );
      const committed = new Map<number, number>();
      const result = await runPipeline(p, {
        untilIdle: true,
        onCommit: (o) =>
          o.forEach((x) => {
            committed.set(x.partition, x.offset);
          }),
      });
      const landed = num(
        (await one(w, `SELECT count(DISTINCT id) AS n FROM events WHERE source = 'refused-${kind}'`)).n,
      );
      const dlq = await readAll(transport, 'in.dlq', 10_000);
      expect({
        in: result.recordsIn,
        landed,
        dead: result.deadLetters,
        dlq: dlq.length,
        committed: committed.get(0),
      }).toEqual({ in: 100, landed: 90, dead: 10, dlq: 10, committed: 100 });
      expect(dlq[0]!.headers['dlq.stage']).toBe(`${kind}:events`);
      expect(dlq[0]!.headers['dlq.error']).toMatch(
        kind === 'duckdb' ? /^column value: "lots" is not a valid float64$/ : /Code: \d+/,
      );
      expect(dlq.map((m) => JSON.parse(m.value.toString()).i)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    }
  });

  it('every dead letter fits both warehouses: odd times, lone surrogates, NULs, huge reasons, binary', async () => {
    for (const kind of KINDS) {
      const w = warehouses[kind];
      const topic = `fits-${kind}`;
      const letters = POISON_LETTERS.map((l) => ({ ...l, position: { ...l.position, topic } }));
      const sink = w.sink<DeadLetter>('dead_letters', (r) => deadLetterRow(r.value));
      await sink.write(letters.map((l) => ({ key: l.key, value: l, eventTime: 0, headers: {}, position: l.position })));
      await sink.close?.();
      const rows = await w.query(
        `SELECT original, event_time, event_time_original FROM dead_letters WHERE topic = '${topic}' ORDER BY "offset"`,
      );
      expect(rows).toHaveLength(letters.length);
      expect(rows.map((r) => String(r.original)).sort()).toEqual(
        letters.map((l) => l.original.toString('base64')).sort(),
      ); // byte for byte
      const times = rows
        .filter((r) => r.event_time_original !== null)
        .map((r) => [num(r.event_time), r.event_time_original]);
      expect(times).toEqual([
        [0, '9000000000000000000'],
        [0, '-1e+308'],
        [0, '9223372036854776000'],
        [0, '1.5'],
        [0, 'NaN'],
      ]);
    }
  });
});

/** What `driftline run --until-idle` wrote into pipeline_runs: records in and dead letters per run, oldest first. */
async function runFigures(w: Warehouse): Promise<{ in: number; dead: number }[]> {
  const rows = await w.query(
    `SELECT records_in, dead_letters FROM pipeline_runs WHERE pipeline = 'events' ORDER BY started_at`,
  );
  return rows.map((r) => ({ in: num(r.records_in), dead: num(r.dead_letters) }));
}

/**
 * A JSONL file with 30 good events and the five probes, and a NAB CSV with 40 rows, one stray quote and one short row.
 */
function pillFiles(folder: string) {
  const good = Array.from({ length: 30 }, (_, i) =>
    JSON.stringify({ source: folder, key: `s${i % 3}`, timestamp: nabTime(i), value: i }),
  );
  const pills = [
    '{"key":"s","timestamp":9e18,"value":1}',
    '{"key":"s","timestamp":-1e308,"value":1}',
    '{"key":"s","timestamp":9223372036854775808,"value":1}',
    '{"key":"s","timestamp":1.5,"value":1}',
    '{"key":"x\\ud800","timestamp":"2014-07-01 00:00:00","value":1}',
  ];
  inputFile(folder, 'pills.jsonl', `${[...good.slice(0, 10), ...pills, ...good.slice(10)].join('\n')}\n`);
  const rows = Array.from({ length: 40 }, (_, i) => `${nabTime(i)},${i}.5`);
  rows[10] = `"${rows[10]}`;
  rows[20] = nabTime(20);
  inputFile(folder, 'series.csv', `timestamp,value\n${rows.join('\n')}\n`);
  return { path: join(dir, folder), records: 75, good: 68, bad: 7, lines: [...pills, rows[10], rows[20]] };
}

/** produce, run --until-idle, run --until-idle again: the CLI as a user runs it. */
async function produceAndRunTwice(env: NodeJS.ProcessEnv, input: string) {
  const produced = driftline(['produce', 'events', input], env);
  expect(await exitOf(produced), produced.output()).toBe(0);
  const first = driftline(['run', 'events', '--until-idle'], env);
  expect(await exitOf(first), first.output()).toBe(0);
  const second = driftline(['run', 'events', '--until-idle'], env);
  expect(await exitOf(second), second.output()).toBe(0);
  return { produced: produced.output(), first: first.output(), second: second.output() };
}

describe('poison pills on a topic: dead-lettered, committed past, never a blocked partition', () => {
  it('Kafka and ClickHouse: bad records in events.dlq, good ones land once, exit 0, reruns read nothing', async () => {
    const kafka = testKafka();
    const prefix = `${uniqueName('poison')}.`;
    const db = `${database}_cli`;
    const env = {
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      CLICKHOUSE_URL: process.env.CLICKHOUSE_URL,
      CLICKHOUSE_DATABASE: db,
      DRIFTLINE_TOPIC_PREFIX: prefix,
      DRIFTLINE_HOME: join(dir, 'kafka-home'),
    };
    const input = pillFiles('kafka-pills');
    const w = await openWarehouse(
      { home: env.DRIFTLINE_HOME, clickhouseUrl: env.CLICKHOUSE_URL },
      { clickhouseDatabase: db },
    );
    try {
      const out = await produceAndRunTwice(env, input.path);
      expect(out.produced).toContain('2 records could not be read and go to the dead letters when the pipeline runs');
      expect(out.produced).toContain('series.csv line 12: Quote Not Closed');
      expect(out.produced).toContain('series.csv line 22: 1 fields, the header has 2 (timestamp,value)');
      expect(out.produced).toContain(`produced ${input.records} records`);
      const dlq = await readAll(kafka, `${prefix}events.dlq`);
      expect(dlq.map((m) => m.value.toString()).sort()).toEqual([...input.lines].sort());
      const events = await one(
        w,
        `SELECT count() AS rows, uniqExact(id) AS ids FROM events WHERE source = 'kafka-pills'`,
      );
      // each landed once
      expect({ rows: num(events.rows), ids: num(events.ids) }).toEqual({ rows: input.good, ids: input.good });
      expect(num((await one(w, 'SELECT uniqExact(id) AS n FROM dead_letters')).n)).toBe(input.bad);
      expect(await runFigures(w)).toEqual([
        { in: input.records, dead: input.bad },
        { in: 0, dead: 0 },
      ]);
    } finally {
      await w.query(`DROP DATABASE IF EXISTS ${db}`).catch(() => {});
      await w.close();
      await kafka.close();
    }
  });

  it('embedded log and DuckDB: the same', async () => {
    const env = { KAFKA_BROKERS: '', CLICKHOUSE_URL: '', DRIFTLINE_HOME: join(dir, 'embedded-home') };
    const input = pillFiles('embedded-pills');
    const out = await produceAndRunTwice(env, input.path);
    expect(out.produced).toContain(`produced ${input.records} records`);
    const transport = openTransport({ ...loadSettings({}), home: env.DRIFTLINE_HOME, kafkaBrokers: undefined });
    const dlq = await readAll(transport, 'events.dlq').finally(() => transport.close());
    expect(dlq.map((m) => m.value.toString()).sort()).toEqual([...input.lines].sort());
    const w = await openWarehouse({ home: env.DRIFTLINE_HOME });
    try {
      expect(num((await one(w, `SELECT count(*) AS n FROM events WHERE source = 'embedded-pills'`)).n)).toBe(
        input.good,
      );
      expect(num((await one(w, 'SELECT count(*) AS n FROM dead_letters')).n)).toBe(input.bad);
      expect(await runFigures(w)).toEqual([
        { in: input.records, dead: input.bad },
        { in: 0, dead: 0 },
      ]);
    } finally {
      await w.close();
    }
  });
});
