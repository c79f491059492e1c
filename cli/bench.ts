import { runTradeoffBench } from '../bench/tradeoff/runner.ts';
import { summaryTable } from '../bench/tradeoff/summary-table.ts';

export interface BenchCommandOptions {
  quick?: boolean;
  out?: string;
  repeats?: number;
  serverBoundMs?: number;
  wattsPerCore?: number;
}

/** `driftline bench`: the trade-off benchmark over every registered model variant (bench/tradeoff/README.md). */
export async function benchCommand(options: BenchCommandOptions): Promise<void> {
  const started = performance.now();
  const result = await runTradeoffBench({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  console.log(summaryTable(result.rows));
  const { run } = result;
  const energy = run.energy_method === 'rapl' ? 'RAPL package counters' : `estimate (CPU time × ${run.watts_per_core?.toFixed(2)} W per core)`;
  console.log(`\nrun ${result.runId}: ${result.rows.length} rows in ${((performance.now() - started) / 1000).toFixed(0)} s; energy: ${energy}`);
  console.log(`results: ${result.jsonPath} and bench_results / bench_runs in ${result.warehouse}`);
}
