/**
 * `postings` scaled out (training off) on Kafka + ClickHouse: throughput with 1, 2 and 3 `driftline run postings
 * --scale-out --until-idle` worker processes on the 6-partition topic. Per run: records/s (topic records over the wall
 * time from the workers' start to the last exit, start-up included) and CPU seconds per 1,000 records (every worker's
 * user + system time, read from /proc/<pid>/stat every 100 ms; a worker's last < 100 ms are missed). Medians with
 * min–max over the rounds; the core count and load average are printed, since on few cores the workers share them.
 * Needs Kafka and ClickHouse (npm run services:up, KAFKA_BROKERS and CLICKHOUSE_URL set).
 *   npx tsx bench/scale-out.bench.ts [--rounds 3] [--workers 1,2,3] [--input <postings dir>] [--models <home>]
 *   (--input: default the 2026 HN postings; --models: a DRIFTLINE_HOME holding a trained Model A and models.json)
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { KafkaTransport } from '../connectors/kafka/kafka-transport.ts';
import { formatSpread, spread } from './stats.ts';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const rounds = Number(arg('--rounds') ?? 3);
const WORKERS = (arg('--workers') ?? '1,2,3').split(',').map(Number);
const DATA = process.env.DRIFTLINE_DATA_DIR || join(import.meta.dirname, '..', '..', 'shared', 'data');
const INPUT = resolve(arg('--input') ?? join(DATA, 'postings', 'hn-hiring-2026'));
const BIN = join(import.meta.dirname, '..', 'bin', 'driftline.js');
const TICKS_PER_S = 100; // USER_HZ on Linux
const run = promisify(execFile);
if (!process.env.KAFKA_BROKERS || !process.env.CLICKHOUSE_URL)
  throw new Error('set KAFKA_BROKERS and CLICKHOUSE_URL (npm run services:up)');

const work = mkdtempSync(join(tmpdir(), 'driftline-bench-scale-out-'));
const HOME = join(work, 'home');
const CONFIG = join(work, 'config.json');
writeFileSync(CONFIG, JSON.stringify({ pipelines: { postings: { train: false } } }));
const envFor = (prefix: string) => ({
  ...process.env,
  DRIFTLINE_HOME: HOME,
  DRIFTLINE_MODELS_MANIFEST: join(HOME, 'models.json'),
  DRIFTLINE_TOPIC_PREFIX: prefix,
  CLICKHOUSE_DATABASE: `bench_${prefix.replace(/\W/g, '_')}`,
});

/** User + system CPU seconds of a process so far (threads included), or undefined once it has gone. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S; // utime, stime (fields 14 and 15)
  } catch {
    return undefined;
  }
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)));

/** N workers on a fresh copy of the input; wall seconds and CPU seconds of all of them. */
async function scaledRun(workers: number, round: number): Promise<{ seconds: number; cpu: number; records: number }> {
  const prefix = `bench-scale-${process.pid}-${round}-${workers}.`;
  const env = envFor(prefix);
  await run('node', [BIN, 'produce', 'postings', INPUT], { env, maxBuffer: 64 << 20 });
  const records = await topicRecords(`${prefix}postings`);
  const started = Date.now();
  const children = Array.from({ length: workers }, () =>
    spawn('node', [BIN, 'run', 'postings', '--scale-out', '--until-idle', '--config', CONFIG], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  const lastCpu = children.map(() => 0);
  const sampler = setInterval(() => {
    children.forEach((c, i) => {
      const cpu = c.pid === undefined ? undefined : cpuSeconds(c.pid);
      if (cpu !== undefined) lastCpu[i] = cpu;
    });
  }, 100);
  const errors = children.map((c) => {
    let text = '';
    c.stderr!.on('data', (d) => (text += d));
    return () => text;
  });
  const codes = await Promise.all(children.map(exited));
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  codes.forEach((code, i) => {
    if (code !== 0) throw new Error(`worker ${i} exited ${code}:\n${errors[i]!()}`);
  });
  return { seconds, cpu: lastCpu.reduce((a, b) => a + b, 0), records };
}

async function topicRecords(topic: string): Promise<number> {
  const kafka = new KafkaTransport({ brokers: process.env.KAFKA_BROKERS!.split(',') });
  try {
    return [...(await kafka.endOffsets(topic)).values()].reduce((a, b) => a + b, 0);
  } finally {
    await kafka.close();
  }
}

async function main() {
  const models = arg('--models');
  if (models) cpSync(resolve(models), HOME, { recursive: true });
  else {
    process.stderr.write(`training Model A into ${HOME} …\n`);
    await run('node', [BIN, 'models', 'train', 'postings', '--data', DATA], {
      env: envFor('bench-train.'),
      maxBuffer: 64 << 20,
    });
  }
  if (!existsSync(join(HOME, 'models.json'))) throw new Error(`no models.json under ${HOME}`);
  // One run first, so Model B is registered (a copy of A) before several workers start at once.
  await scaledRun(1, -1);
  const results = new Map<number, { perSecond: number[]; cpuPer1k: number[] }>(
    WORKERS.map((n) => [n, { perSecond: [], cpuPer1k: [] }]),
  );
  const loads: number[] = [];
  for (let round = 0; round < rounds; round++)
    for (const n of WORKERS) {
      loads.push(loadavg()[0]!);
      const r = await scaledRun(n, round);
      results.get(n)!.perSecond.push(r.records / r.seconds);
      results.get(n)!.cpuPer1k.push(r.cpu / (r.records / 1000));
      process.stderr.write(
        `round ${round + 1}, ${n} worker(s): ${r.records} records in ${r.seconds.toFixed(1)} s, ` +
          `${r.cpu.toFixed(1)} CPU s\n`,
      );
    }
  console.log(
    `postings --scale-out, training off, 6 partitions; ${cpus().length} cores (${cpus()[0]?.model}); input ${INPUT}`,
  );
  console.log(`load average (1 min) at the runs' starts: ${formatSpread(spread(loads))}`);
  for (const [n, r] of results)
    console.log(
      `${n} worker(s): ${formatSpread(spread(r.perSecond), ' records/s')}; ` +
        `${formatSpread(spread(r.cpuPer1k), ' CPU s per 1k records')}`,
    );
}

await main();
