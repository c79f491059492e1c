/**
 * Start-up time of the `driftline` command: wall time of `driftline --help` (compiled entry, and from source) and
 * `driftline --version`, beside plain `node` (the floor) and `node` with the TypeScript loader on an empty module
 * (what the loader itself costs).
 * Each command runs N times (default 10; `tsx bench/cli-startup.bench.ts 20`); prints median (min–max) and the load
 * average, since on a shared machine other work inflates every figure alike.
 *
 *   npx tsx bench/cli-startup.bench.ts
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { formatSpread, spread } from './stats.ts';

const runs = Number(process.argv[2] ?? 10);

const cases: Array<[string, string[]]> = [
  ['node (empty script)', ['-e', '']],
  ['node + tsx loader (empty module)', ['--import', 'tsx/esm', '-e', '']],
  ['driftline --version', ['bin/driftline.js', '--version']],
  ['driftline --help', ['bin/driftline.js', '--help']],
  // without the compiled entry (dist/cli.js): what --help cost before it, and costs when it is stale or missing
  ['driftline --help, from source', ['--import', 'tsx/esm', 'cli/main.ts', '--help']],
];

const exits = new Map<string, number | null>();

function timeOnce(args: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
  exits.set(args.join(' '), result.status); // a version without --version exits 1: still timed, and said so
  return Number(process.hrtime.bigint() - started) / 1e6;
}

console.log(
  `CLI start-up, ${runs} runs each; load average before: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const [name, args] of cases) {
  timeOnce(args); // warm the file cache
  const times = Array.from({ length: runs }, () => timeOnce(args));
  const status = exits.get(args.join(' '));
  console.log(`${name.padEnd(34)} ${formatSpread(spread(times), ' ms')}${status === 0 ? '' : ` (exits ${status})`}`);
}
console.log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
