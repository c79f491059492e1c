/**
 * driftline beside its peers on the same broker and data: Quix Streams 3.28 (Python, librdkafka) and the raw clients
 * driftline drives (kafkajs, @clickhouse/client). Shapes: Kafka → JSON decode → map → Kafka (1 KB JSON, 4
 * partitions); a tumbling 1 h count per key over the NAB events; normalize → enrich → ClickHouse (posting and event
 * rows). Each contender runs in its own process, in a different order every round; it prints records/s and CPU s per
 * 1k records (the process's, every thread) as medians (min–max), and driftline's ratio to each peer per round.
 *
 *   npx tsx bench/peers/peers.bench.ts [--rounds 3] [--records 50000] [--nab-records 100000] [--rows 100000]
 *                                      [--base <checkout>] [--only kafka-map,window,clickhouse]
 *
 * `--base` adds driftline from another checkout (e.g. `git archive HEAD | tar -x -C /tmp/base` with a
 * node_modules link), run in the same rounds. The Python venv is made on first use under .services/peers-venv.
 * Needs Kafka (KAFKA_BROKERS, default 127.0.0.1:9092) and ClickHouse (CLICKHOUSE_URL, default http://127.0.0.1:8123).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createClient } from '@clickhouse/client';
import { Kafka, logLevel } from 'kafkajs';
import { clickhouseCreateTable } from '../../connectors/warehouse/clickhouse-ddl.ts';
import { readNabCorpus } from '../../streams/pipelines/nab-corpus.ts';
import { formatSpread, spread } from '../stats.ts';
import { PAD } from './child.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const option = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1]! : fallback;
};
const ROUNDS = Number(option('rounds', '3'));
const RECORDS = Number(option('records', '50000'));
const NAB_RECORDS = Number(option('nab-records', '100000'));
const ROWS = Number(option('rows', '100000'));
const BASE = process.argv.includes('--base') ? resolve(option('base', '')) : undefined;
const ONLY = option('only', 'kafka-map,window,clickhouse').split(',');
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const CLICKHOUSE = process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';
const DATA = process.env.DRIFTLINE_DATA_DIR || join(ROOT, '..', 'shared', 'data');
const VENV = join(ROOT, '.services', 'peers-venv');
const PYTHON = join(VENV, 'bin', 'python');
const RUN_ID = `${process.pid}-${Date.now() % 1e6}`;

interface Result {
  records: number;
  seconds: number;
  cpuSeconds: number;
}
interface Contender {
  name: string;
  /** The command and arguments, given the run's unique suffix (fresh groups and topics each run). */
  command: (unique: string) => [string, string[]];
  /** Runs before each of its runs (a fresh ClickHouse table). */
  before?: (unique: string) => Promise<void>;
}
interface Shape {
  title: string;
  contenders: Contender[];
  /** Ratios driftline / this contender per round; `cpu`: also the CPU per record against it. */
  against: { name: string; cpu?: boolean }[];
  /** Other driftline configurations, compared with the same peers. */
  variants?: string[];
}

const node = (file: string, args: string[]): [string, string[]] => [
  process.execPath,
  ['--import', 'tsx', join(import.meta.dirname, file), ...args],
];
const python = (file: string, args: string[]): [string, string[]] => [
  PYTHON,
  [join(import.meta.dirname, file), ...args],
];
const driftlines = (file: string, args: (unique: string) => string[]): Contender[] => [
  { name: 'driftline', command: (u) => node(file, [...args(u), '--root', ROOT]) },
  ...(BASE ? [{ name: 'driftline (base)', command: (u: string) => node(file, [...args(u), '--root', BASE]) }] : []),
];

function ensureVenv() {
  if (existsSync(PYTHON)) return;
  console.log(`creating ${VENV} (quixstreams 3.28 from PyPI)…`);
  execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  execFileSync(join(VENV, 'bin', 'pip'), ['install', '-q', 'quixstreams==3.28.*'], { stdio: 'inherit' });
}

/** Runs one contender process and reads its result line. */
function runOnce(contender: Contender, unique: string): Promise<Result> {
  const [command, args] = contender.command(unique);
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      const line = out
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{"records"'));
      if (code === 0 && line) done(JSON.parse(line) as Result);
      else fail(new Error(`${contender.name} exited ${code}:\n${err.slice(-2_000)}${out.slice(-500)}`));
    });
  });
}

const kafka = new Kafka({ clientId: 'peers-bench', brokers: BROKERS.split(','), logLevel: logLevel.ERROR });

/** The topics this run made, deleted at its end. */
const created: string[] = [];

async function createTopics(topics: string[]) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: 4 })) });
  created.push(...topics);
  await admin.disconnect();
}

async function deleteTopics() {
  if (created.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: created }).catch((error: Error) => console.log(`topics left: ${error.message}`));
  await admin.disconnect();
}

async function fill(topic: string, messages: { key: string; value: string; timestamp: number }[]) {
  await createTopics([topic]);
  const producer = kafka.producer();
  await producer.connect();
  for (let at = 0; at < messages.length; at += 5_000) {
    const chunk = messages.slice(at, at + 5_000);
    await producer.send({
      topic,
      messages: chunk.map((m) => ({ key: m.key, value: m.value, timestamp: String(m.timestamp) })),
    });
  }
  await producer.disconnect();
}

/** The NAB events in event-time order (one stream clock for every contender), keyed by series. */
function nabEvents(limit: number) {
  const events = readNabCorpus(join(DATA, 'events', 'nab')).flatMap((f) =>
    f.timestamps.map((ts, i) => ({ key: f.series, value: JSON.stringify({ ts, value: f.values[i] }), timestamp: ts })),
  );
  return events.sort((a, b) => a.timestamp - b.timestamp).slice(0, limit);
}

/** Kafka shapes: each run reads the input with a fresh group and writes a fresh 4-partition output topic. */
function kafkaArgs(input: string, records: number) {
  return (u: string) => [
    ...['--brokers', BROKERS, '--input', input, '--output', `peers-out-${u}`],
    ...['--group', `peers-${u}`, '--records', `${records}`],
  ];
}
const createOutput = async (u: string) => createTopics([`peers-out-${u}`]);

async function kafkaMapShape(): Promise<Shape> {
  const input = `peers-map-in-${RUN_ID}`;
  const value = (i: number) => JSON.stringify({ id: i, pad: PAD });
  await fill(
    input,
    Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i}`, value: value(i), timestamp: i })),
  );
  const args = kafkaArgs(input, RECORDS);
  const main = (u: string) => [...args(u), '--producer-thread', 'false', '--root'];
  return {
    title: `Kafka → JSON decode → map → Kafka, ${RECORDS.toLocaleString('en-US')} × 1 KB JSON, 4 partitions`,
    contenders: (
      [
        ...driftlines('kafka-map.driftline.ts', args),
        { name: 'driftline, main-thread producer', command: (u) => node('kafka-map.driftline.ts', [...main(u), ROOT]) },
        { name: 'raw kafkajs', command: (u) => node('kafka-map.kafkajs.ts', args(u)) },
        { name: 'Quix Streams 3.28', command: (u) => python('kafka-map.quix.py', args(u)) },
      ] as Contender[]
    ).map((c) => ({ ...c, before: createOutput })),
    against: [{ name: 'raw kafkajs', cpu: true }, { name: 'Quix Streams 3.28' }],
    variants: ['driftline, main-thread producer'],
  };
}

async function windowShape(): Promise<Shape> {
  const input = `peers-nab-in-${RUN_ID}`;
  const events = nabEvents(NAB_RECORDS);
  await fill(input, events);
  const args = kafkaArgs(input, events.length);
  return {
    title: `tumbling 1 h count per key, ${events.length.toLocaleString('en-US')} NAB events, Kafka → Kafka`,
    contenders: (
      [
        ...driftlines('window.driftline.ts', args),
        { name: 'Quix Streams 3.28', command: (u) => python('window.quix.py', args(u)) },
      ] as Contender[]
    ).map((c) => ({ ...c, before: createOutput })),
    against: [{ name: 'Quix Streams 3.28' }],
  };
}

const DATABASE = `driftline_peers_${process.pid}`;
const clickhouse = createClient({ url: CLICKHOUSE });

function clickhouseShape(table: 'postings' | 'events'): Shape {
  const args = ['--url', CLICKHOUSE, '--database', DATABASE, '--table', table, '--records', `${ROWS}`];
  const fresh = async () => {
    await clickhouse.command({ query: `DROP TABLE IF EXISTS ${DATABASE}.${table}` });
    await clickhouse.command({ query: clickhouseCreateTable(table, DATABASE) });
  };
  return {
    title: `normalize → enrich → ClickHouse, ${ROWS.toLocaleString('en-US')} ${table} rows, 10k-row inserts`,
    contenders: (
      [
        ...driftlines('clickhouse.driftline.ts', () => args),
        { name: 'raw @clickhouse/client', command: () => node('clickhouse.raw.ts', args) },
      ] as Contender[]
    ).map((c) => ({ ...c, before: fresh })),
    against: [{ name: 'raw @clickhouse/client', cpu: true }],
  };
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
const fmtRate = (r: Result) => r.records / r.seconds;
const cpuMsPer1k = (r: Result) => (r.cpuSeconds / r.records) * 1e6;

let shapeNumber = 0;

async function runShape(shape: Shape) {
  shapeNumber++;
  console.log(`\n${shape.title}`);
  const results = new Map<string, Result[]>(shape.contenders.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = shape.contenders.map((_, i) => shape.contenders[(i + round) % shape.contenders.length]!);
    const loads: string[] = [];
    for (const contender of order) {
      const unique = `${RUN_ID}-${shapeNumber}-${round}-${contender.name.replace(/\W+/g, '')}`;
      await contender.before?.(unique);
      loads.push(load());
      const result = await runOnce(contender, unique);
      results.get(contender.name)!.push(result);
    }
    const line = order.map(
      (c, i) => `${c.name} ${Math.round(fmtRate(results.get(c.name)![round]!))} (load ${loads[i]})`,
    );
    console.log(`  round ${round + 1}: ${line.join('; ')}`);
  }
  for (const [name, rs] of results) {
    console.log(`  ${name.padEnd(24)} ${formatSpread(spread(rs.map(fmtRate)), ' rec/s')}`);
    console.log(`  ${''.padEnd(24)} ${formatSpread(spread(rs.map(cpuMsPer1k)), ' CPU ms per 1k records')}`);
  }
  for (const ourName of ['driftline', ...(shape.variants ?? [])]) {
    const ours = results.get(ourName)!;
    for (const { name, cpu } of shape.against) {
      const theirs = results.get(name)!;
      const ratio = spread(ours.map((r, i) => fmtRate(r) / fmtRate(theirs[i]!)));
      console.log(`  ${ourName} / ${name}: ${formatSpread(ratio, '×')} throughput per round`);
      if (!cpu) continue;
      const cpuRatio = spread(ours.map((r, i) => cpuMsPer1k(r) / cpuMsPer1k(theirs[i]!)));
      console.log(`  ${ourName} / ${name}: ${formatSpread(cpuRatio, '×')} CPU per record per round`);
    }
  }
  if (BASE) {
    const base = results.get('driftline (base)')!;
    const ours = results.get('driftline')!;
    const speedUp = spread(ours.map((r, i) => fmtRate(r) / fmtRate(base[i]!)));
    console.log(`  driftline / driftline (base): ${formatSpread(speedUp, '×')} throughput per round`);
  }
}

ensureVenv();
console.log(`peer bench: ${ROUNDS} rounds, 2-core load ${load()} at the start (1 / 5 / 15 min)`);
const shapes: (() => Promise<Shape> | Shape)[] = [];
if (ONLY.includes('kafka-map')) shapes.push(kafkaMapShape);
if (ONLY.includes('window')) shapes.push(windowShape);
if (ONLY.includes('clickhouse'))
  shapes.push(
    () => clickhouseShape('postings'),
    () => clickhouseShape('events'),
  );
await clickhouse.command({ query: `CREATE DATABASE IF NOT EXISTS ${DATABASE}` });
try {
  for (const make of shapes) await runShape(await make());
} finally {
  await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${DATABASE}` });
  await clickhouse.close();
  await deleteTopics();
}
console.log(`\nload at the end: ${load()}`);
