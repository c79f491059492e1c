/**
 * The pipelines end to end, with their models: `postings` (normalize, Model A and B inference, uncertainty-sample,
 * drift-window, pseudo-label, compare-models; Model B training off and on) and `frames` (fp32 + int8 on NEU-DET),
 * through Kafka → ClickHouse and on embedded defaults (embedded log → DuckDB), in one run.
 *
 *   - sustained records/s: N inputs produced first, then `run --until-idle` consumes them flat out; the rate counts
 *     from the first record read (after the consumer joined and the models loaded) to the end of the run;
 *   - end-to-end latency at a fixed offered rate: `driftline produce --rate R` runs beside the pipeline; latency is the
 *     runtime's own, from each record's send time (`driftline.sent_at` header) to the moment every sink acknowledged it
 *     (ClickHouse/DuckDB insert done, windows included), as written to `pipeline_runs`.
 *
 * Models are trained into a temp registry first (Model A; the frame CNN and its int8 variant: about 3 minutes).
 * Prints medians with min/max over repeats. Targets on 2 cores: ≥ 10,000 postings/s sustained, p99 ≤ 500 ms at
 * 2,000 postings/s, ≥ 300 frames/s.
 *   npm run services:up && npx tsx bench/pipelines.bench.ts [--quick]      (npm run bench:pipelines)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWarehouse } from '../connectors/warehouse/warehouse.ts';
import { runCommand } from '../cli/run.ts';
import type { RunResult } from '../streams/kernel/runner.ts';
import { formatSpread, spread } from './stats.ts';

const quick = process.argv.includes('--quick');
const repeats = quick ? 1 : 3;
const DATA = process.env.DRIFTLINE_DATA_DIR || join(import.meta.dirname, '..', '..', 'shared', 'data');
/** Chronological HN postings (2013–2018 monthly files, then the 2026 runs with their ground truth as labels). */
const POSTINGS = quick
  ? [join(DATA, 'postings', 'hn-hiring-2026')]
  : [join(DATA, 'postings', 'hn-hiring-2013-2018'), join(DATA, 'postings', 'hn-hiring-2026')];
const FRAMES = [join(DATA, 'frames', 'neu-det', 'images')];
const TARGET_RATE = 2_000;

const work = mkdtempSync(join(tmpdir(), 'driftline-bench-pipelines-'));
const tag = Date.now().toString(36);
const database = `driftline_bench_${tag}`;
const base = {
  DRIFTLINE_HOME: join(work, 'home'),
  DRIFTLINE_MODELS_MANIFEST: join(work, 'models.json'),
  DRIFTLINE_DATA_DIR: DATA,
};
const transports = {
  'kafka → clickhouse': {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS || '127.0.0.1:9092',
    CLICKHOUSE_URL: process.env.CLICKHOUSE_URL || 'http://127.0.0.1:8123',
    CLICKHOUSE_DATABASE: database,
  },
  'embedded → duckdb': { KAFKA_BROKERS: '', CLICKHOUSE_URL: '' },
};
type TransportName = keyof typeof transports;

const say = (line: string) => process.stdout.write(`${line}\n`);

/** Runs the real CLI in a child process (producers, model training). */
function cli(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<void> } {
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'driftline.js'), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr!.on('data', (d) => (errors += d));
  const done = new Promise<void>((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`driftline ${args.join(' ')} exited ${code}:\n${errors}`)),
    ),
  );
  return { child, done };
}

/** The pipeline in this process, with `env` as its environment (runCommand reads its settings from process.env). */
async function run(
  name: string,
  env: Record<string, string>,
  options: { config?: object; inputComplete?: AbortSignal } = {},
): Promise<RunResult> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  let config: string | undefined;
  if (options.config) {
    config = join(work, `config-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(config, JSON.stringify({ pipelines: { [name]: options.config } }));
  }
  try {
    return await runCommand(name, {
      untilIdle: !options.inputComplete,
      inputComplete: options.inputComplete,
      quiet: true,
      mode: 'bench',
      group: `bench-${Math.random().toString(36).slice(2)}`,
      config,
    });
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

/** Records per second from the first record read to the end (connecting, joining and loading models excluded). */
const sustained = (r: RunResult) => r.recordsIn / (Math.max(1, r.endedAt - (r.firstReadAt ?? r.startedAt)) / 1000);

async function trainModels() {
  writeFileSync(base.DRIFTLINE_MODELS_MANIFEST, '{"models":[]}');
  const t0 = performance.now();
  await cli(['models', 'train', 'postings', '--data', DATA], base).done;
  await cli(['models', 'train', 'frames', '--data', DATA], base).done;
  await cli(['models', 'quantize', 'frames-cnn', '--precision', 'int8'], base).done;
  say(
    `models trained in ${((performance.now() - t0) / 1000).toFixed(0)} s (postings-a; frames-cnn fp32 + int8) ` +
      `into ${work}`,
  );
}

async function sustainedRuns(
  transport: TransportName,
  pipeline: string,
  inputs: string[],
  configs: Record<string, object>,
) {
  const env = { ...base, ...transports[transport], DRIFTLINE_TOPIC_PREFIX: `bench-${tag}-${pipeline}.` };
  await cli(['produce', pipeline, ...inputs], env).done;
  const out: Record<string, RunResult[]> = {};
  for (const [label, config] of Object.entries(configs)) {
    out[label] = [];
    for (let i = 0; i < repeats; i++) out[label].push(await run(pipeline, env, { config }));
    const rs = out[label];
    say(
      `${pipeline.padEnd(8)} ${transport.padEnd(18)} ${label.padEnd(14)} ${rs[0]!.recordsIn} ` +
        `records: ${formatSpread(spread(rs.map(sustained)), ' rec/s')} sustained; whole run incl. ` +
        `start-up ${formatSpread(spread(rs.map((r) => r.recordsIn / (r.durationMs / 1000))), ' rec/s')}`,
    );
  }
  return out;
}

async function latencyRuns(transport: TransportName, rate: number) {
  const results: RunResult[] = [];
  for (let i = 0; i < repeats; i++) {
    const env = { ...base, ...transports[transport], DRIFTLINE_TOPIC_PREFIX: `bench-${tag}-paced-${rate}-${i}.` };
    const inputDone = new AbortController();
    const producer = cli(['produce', 'postings', ...POSTINGS, '--rate', String(rate)], env);
    producer.done.finally(() => inputDone.abort()).catch(() => {});
    const [result] = await Promise.all([run('postings', env, { inputComplete: inputDone.signal }), producer.done]);
    results.push(result);
  }
  const e2e = (f: (r: RunResult) => number) => formatSpread(spread(results.map(f)), ' ms');
  say(
    `postings ${transport.padEnd(18)} offered ${rate}/s: e2e p50 ${e2e((r) => r.endToEnd!.p50Ms)}, ` +
      `p99 ${e2e((r) => r.endToEnd!.p99Ms)}; ` +
      `consumed ${formatSpread(spread(results.map(sustained)), ' rec/s')}, max ` +
      `lag ${formatSpread(spread(results.map((r) => r.maxConsumerLag ?? 0)))}`,
  );
  return results;
}

await trainModels();
say(`\n${quick ? 'quick run' : `${repeats} repeats`}; machine shared with other jobs: figures are noisy\n`);
say('sustained throughput (inputs produced first, then consumed flat out)');
const throughput: Record<string, number> = {};
for (const transport of Object.keys(transports) as TransportName[]) {
  const postings = await sustainedRuns(transport, 'postings', POSTINGS, {
    'training off': { train: false },
    'training on': {},
  });
  throughput[transport] = spread(postings['training on']!.map(sustained)).median;
  await sustainedRuns(transport, 'frames', FRAMES, { 'fp32 + int8': {} });
}
say(`\nend-to-end latency at a fixed offered rate (training on; a paced producer beside the pipeline)`);
for (const transport of Object.keys(transports) as TransportName[]) {
  await latencyRuns(transport, TARGET_RATE);
  // Past its sustained rate the backlog only grows: also measure at a rate it keeps up with.
  const sustainable = Math.floor((throughput[transport]! * 0.5) / 100) * 100;
  if (throughput[transport]! < TARGET_RATE * 1.2 && sustainable > 0) await latencyRuns(transport, sustainable);
}

const clickhouse = await openWarehouse({
  home: base.DRIFTLINE_HOME,
  clickhouseUrl: transports['kafka → clickhouse'].CLICKHOUSE_URL,
});
await clickhouse.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
await clickhouse.close();
