/**
 * `driftline replay postings`, training off, on the real postings (HN 2013–2018 + 2026 with their ground truth),
 * embedded defaults: a base checkout (today's main, e.g. a git worktree of HEAD) against this tree (once per
 * BENCH_MAP_THREADS value, as DRIFTLINE_MAP_THREADS), interleaved in every round so machine load hits all alike. Prints
 * records/s and CPU seconds per 1k records, medians with min–max, the speed-up against the base, and checks after every
 * run that each warehouse table holds the same rows as the base's (run id masked, wall-clock columns left out).
 * Model A is trained once into a temp registry (~20 s); every replay starts from a copy of it.
 *   npx tsx bench/postings-replay.bench.ts --base /tmp/perf-base [--quick] [--rounds N]
 *   (--quick: the 2026 postings only, one round; --models <home>: a DRIFTLINE_HOME holding a trained Model A and its
 *   models.json, instead of training one; the base needs node_modules, e.g. a symlink to this tree's)
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { warehouseSnapshot } from '../test/replay/replay-helpers.ts';
import { formatSpread, spread } from './stats.ts';

const arg = (name: string) => process.argv[process.argv.indexOf(name) + 1];
const quick = process.argv.includes('--quick');
const rounds = process.argv.includes('--rounds') ? Number(arg('--rounds')) : quick ? 1 : 3;
const BASE = process.argv.includes('--base') ? resolve(arg('--base')!) : undefined;
if (!BASE || !existsSync(join(BASE, 'bin', 'driftline.js')))
  throw new Error('--base <checkout of the code to compare against> is required');
const DATA = process.env.DRIFTLINE_DATA_DIR || join(import.meta.dirname, '..', '..', 'shared', 'data');
const FOLDERS = quick ? ['hn-hiring-2026'] : ['hn-hiring-2013-2018', 'hn-hiring-2026'];
/** The demo's options for the real data (cli/demo/replays.ts), Model B training off. */
const OPTIONS = {
  windowDays: 30,
  driftReference: 'warm-up',
  warmUpRecords: quick ? 400 : 5000,
  minWindowSize: quick ? 30 : 200,
  train: false,
};
/**
 * DRIFTLINE_MAP_THREADS values to run this tree with (BENCH_MAP_THREADS=1,2), for a pipeline that uses a parallel map;
 * postings does not at present (bench/README.md), so by default one run.
 */
const THREADS = (process.env.BENCH_MAP_THREADS ?? '0').split(',').map(Number);
const run = promisify(execFile);

const work = mkdtempSync(join(tmpdir(), 'driftline-bench-postings-replay-'));
const INPUT = join(work, 'input');
mkdirSync(INPUT);
for (const f of FOLDERS) symlinkSync(join(DATA, 'postings', f), join(INPUT, f));
const CONFIG = join(work, 'config.json');
writeFileSync(CONFIG, JSON.stringify({ pipelines: { postings: OPTIONS } }));
const envFor = (home: string, extra: Record<string, string> = {}) => ({
  ...process.env,
  DRIFTLINE_DATA_DIR: DATA,
  KAFKA_BROKERS: '',
  CLICKHOUSE_URL: '',
  DRIFTLINE_HOME: home,
  DRIFTLINE_MODELS_MANIFEST: join(home, 'models.json'),
  ...extra,
});

interface Replay {
  recordsPerS: number;
  cpuSPer1k: number;
  home: string;
}

/** One replay from a copy of the trained registry; CPU time (user + system, all threads) from /usr/bin/time. */
async function replay(tree: string, label: string, round: number, extra: Record<string, string>): Promise<Replay> {
  const home = join(work, `${label}-${round}`);
  cpSync(join(work, 'a'), home, { recursive: true });
  const cli = join(tree, 'bin', 'driftline.js');
  const { stderr } = await run(
    '/usr/bin/time',
    ['-f', 'cpu %U %S', 'node', cli, 'replay', 'postings', '--config', CONFIG, '--input', INPUT, '--run-id', 'bench'],
    { env: envFor(home, extra), maxBuffer: 64 << 20 },
  );
  const done = /done in ([\d.]+) s: (\d+) records \((\d+) records\/s\)/.exec(stderr);
  const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  if (!done || !cpu) throw new Error(`no summary in the replay's output:\n${stderr.slice(-2000)}`);
  return {
    recordsPerS: Number(done[3]),
    cpuSPer1k: ((Number(cpu[1]) + Number(cpu[2])) / Number(done[2])) * 1000,
    home,
  };
}

/** A dead letter without an event time is stamped with the time it was read: a wall clock, different in every run. */
function tablesOf(snapshot: Record<string, string[]>): Record<string, string[]> {
  const withoutReadTime = (row: string) => JSON.stringify({ ...JSON.parse(row), event_time: undefined });
  return { ...snapshot, dead_letters: (snapshot.dead_letters ?? []).map(withoutReadTime).sort() };
}

/** Every table of `home`'s warehouse must hold the base's rows. */
async function expectSameTables(base: Replay, other: Replay, label: string): Promise<void> {
  const [a, b] = [
    tablesOf(await warehouseSnapshot(base.home, 'bench')),
    tablesOf(await warehouseSnapshot(other.home, 'bench')),
  ];
  // pipeline_metrics has one row per stage: it describes the run's shape, not its results
  const differing = Object.keys(a).filter(
    (t) => t !== 'pipeline_metrics' && JSON.stringify(a[t]) !== JSON.stringify(b[t] ?? []),
  );
  const sizes = (t: string) => `${t} (${a[t]!.length} vs ${b[t]?.length ?? 0} rows)`;
  if (differing.length > 0)
    throw new Error(`${label}: tables differ from the base's: ${differing.map(sizes).join(', ')}`);
}

async function main() {
  if (process.argv.includes('--models')) cpSync(resolve(arg('--models')!), join(work, 'a'), { recursive: true });
  else {
    process.stderr.write(`training Model A into ${work}/a …\n`);
    await run(
      'node',
      [join(import.meta.dirname, '..', 'bin', 'driftline.js'), 'models', 'train', 'postings', '--data', DATA],
      { env: envFor(join(work, 'a')), maxBuffer: 64 << 20 },
    );
  }
  const base: Replay[] = [];
  const byThreads = new Map<number, Replay[]>(THREADS.map((t) => [t, []]));
  const loads: number[] = [];
  for (let round = 0; round < rounds; round++) {
    loads.push(loadavg()[0]!);
    base.push(await replay(BASE!, 'base', round, {}));
    for (const t of THREADS) {
      const r = await replay(join(import.meta.dirname, '..'), `threads-${t}`, round, {
        DRIFTLINE_MAP_THREADS: String(t),
      });
      await expectSameTables(base.at(-1)!, r, `${t} threads, round ${round + 1}`);
      byThreads.get(t)!.push(r);
    }
    const now = THREADS.map((t) => `${t} threads ${byThreads.get(t)!.at(-1)!.recordsPerS}/s`).join(', ');
    process.stderr.write(
      `round ${round + 1}/${rounds}: base ${base.at(-1)!.recordsPerS}/s; ${now}; same tables as the base\n`,
    );
  }
  const rate = (rs: Replay[]) => spread(rs.map((r) => r.recordsPerS));
  const cpu = (rs: Replay[]) => spread(rs.map((r) => r.cpuSPer1k));
  console.log(
    `\nreplay postings, training off, ${quick ? 'HN 2026' : 'HN 2013–2018 + 2026'}, embedded → DuckDB, ${rounds} ` +
      `rounds interleaved`,
  );
  console.log(`  load average (1 min) at each round's start: ${loads.map((l) => l.toFixed(1)).join(', ')}`);
  console.log(`  base (${BASE})   ${formatSpread(rate(base), ' rec/s')}; CPU ${formatSpread(cpu(base), ' s/1k')}`);
  for (const t of THREADS) {
    const rs = byThreads.get(t)!;
    const speedUps = rs.map((r, i) => r.recordsPerS / base[i]!.recordsPerS);
    console.log(
      `  ${t} map threads   ${formatSpread(rate(rs), ' rec/s')}; CPU ${formatSpread(cpu(rs), ' s/1k')}; speed-up ` +
        `per round ${formatSpread(spread(speedUps), '×')}`,
    );
  }
  console.log('  every table held the same rows as the base in every run');
}

await main();
