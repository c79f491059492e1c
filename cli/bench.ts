import { join } from 'node:path';
import { formatEventsBench, runEventsBench } from '../bench/nab-events.ts';
import { runTradeoffBench } from '../bench/tradeoff/runner.ts';
import { loadSettings } from '../config/settings.ts';
import { summaryTable } from '../bench/tradeoff/summary-table.ts';

export interface BenchCommandOptions {
  quick?: boolean;
  out?: string;
  repeats?: number;
  serverBoundMs?: number;
  wattsPerCore?: number;
  /** 'events': the NAB benchmark of the events anomaly score instead of the trade-off benchmark. */
  suite?: string;
  /** Print the results as one JSON line on stdout; the human summary goes to stderr instead. */
  json?: boolean;
}

/** Where the human summary goes: stdout, or stderr when stdout carries the JSON. */
const summaryOut = (options: BenchCommandOptions) => (line: string) =>
  (options.json ? process.stderr : process.stdout).write(`${line}\n`);

/** `driftline bench`: the trade-off benchmark over every registered model variant (bench/tradeoff/README.md). */
export async function benchCommand(options: BenchCommandOptions): Promise<void> {
  if (options.suite !== undefined) return benchSuite(options);
  const started = performance.now();
  const result = await runTradeoffBench({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  const say = summaryOut(options);
  say(summaryTable(result.rows));
  const { run } = result;
  const energy =
    run.energy_method === 'rapl'
      ? 'RAPL package counters'
      : `estimate (CPU time × ${run.watts_per_core?.toFixed(2)} W per core)`;
  say(
    `\nrun ${result.runId}: ${result.rows.length} rows in ${((performance.now() - started) / 1000).toFixed(0)} s; ` +
      `energy: ${energy}`,
  );
  say(`results: ${result.jsonPath} and bench_results / bench_runs in ${result.warehouse}`);
  if (options.json)
    printJsonLine({
      run_id: result.runId,
      run: result.run,
      results: result.rows,
      file: result.jsonPath,
      warehouse: result.warehouse,
    });
}

const printJsonLine = (value: unknown) =>
  process.stdout.write(`${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);

/**
 * `driftline bench events`: NAB under DRIFTLINE_DATA_DIR, scored for driftline and the baselines (bench/nab-events.ts)
 */
function benchSuite(options: BenchCommandOptions): void {
  if (options.suite !== 'events') {
    throw new Error(
      `unknown benchmark "${options.suite}": the one suite is "events" (no argument: the trade-off benchmark)`,
    );
  }
  const dataDir = loadSettings().dataDir;
  if (!dataDir)
    throw new Error('driftline bench events needs NAB: set DRIFTLINE_DATA_DIR to the folder holding events/nab/');
  const repeats = options.repeats ?? (options.quick ? 1 : 3);
  const result = runEventsBench(join(dataDir, 'events', 'nab'), {
    repeats,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  summaryOut(options)(formatEventsBench(result));
  if (options.json) printJsonLine(result);
}
