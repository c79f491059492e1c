/**
 * The trade-off benchmark: every registered model variant (model-variants.ts) × backend × intra-op threads through
 * the SingleStream, Offline and Server scenarios, with held-out accuracy, memory and energy; rows to the warehouse
 * and a JSON file. `driftline bench` and `driftline demo` call `runTradeoffBench`.
 */
import { join, resolve } from 'node:path';
import { type Settings, loadSettings } from '../../config/settings.ts';
import { heldOutAccuracy } from '../../models/held-out-prediction.ts';
import { ModelRegistry } from '../../models/registry/registry.ts';
import { newRunId } from '../../streams/pipelines/run-metrics.ts';
import { BACKENDS, threadCountsFor } from './backend-session.ts';
import { benchPlan } from './bench-plan.ts';
import { wattsPerCore } from './cpu-power.ts';
import { openEnergyMeter } from './energy-meter.ts';
import { machineInfo } from './machine-info.ts';
import { measureInProcess } from './measure-in-process.ts';
import { modelVariants } from './model-variants.ts';
import { type BenchResultRow, type BenchRunRow, runRow } from './result-rows.ts';
import { writeBenchFile, writeBenchWarehouse } from './store-results.ts';

export interface TradeoffBenchOptions {
  quick?: boolean;
  /** JSON file (default DRIFTLINE_HOME/bench/<run id>.json). */
  out?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Override the plan's repetitions. */
  repeats?: number;
  /** Server p99 bound in ms (default 10). */
  serverBoundMs?: number;
  /** Power figure of the energy estimate (default: env DRIFTLINE_BENCH_WATTS_PER_CORE, the CPU's TDP, else 5 W). */
  wattsPerCore?: number;
  /** The powercap sysfs tree (tests point it at a fake one). */
  powercapRoot?: string;
  settings?: Settings;
  registry?: ModelRegistry;
}

export interface TradeoffBenchResult {
  runId: string;
  run: BenchRunRow;
  rows: BenchResultRow[];
  jsonPath: string;
  /** Where the rows went: `duckdb <file>` or `clickhouse <url>`. */
  warehouse: string;
}

export async function runTradeoffBench(options: TradeoffBenchOptions = {}): Promise<TradeoffBenchResult> {
  const log = options.log ?? (() => {});
  const settings = options.settings ?? loadSettings();
  const reg = options.registry ?? ModelRegistry.fromSettings(settings);
  const models = modelVariants(reg, log);
  if (models.length === 0)
    throw new Error(
      `no models registered (manifest ${reg.manifestPath}): train one first with \`driftline models train ` +
        `postings\` (and \`driftline models train frames\`)`,
    );

  const plan = benchPlan({ quick: options.quick, repeats: options.repeats, serverBoundMs: options.serverBoundMs });
  const machine = machineInfo();
  const power = wattsPerCore(machine.cpuModel, options.wattsPerCore);
  const energy = openEnergyMeter(power, options.powercapRoot);
  const runId = `bench-${newRunId()}`;
  const startedAt = Date.now();
  const energyMethod =
    energy.method === 'rapl'
      ? 'RAPL package counters'
      : `estimate, CPU time × ${power.wattsPerCore.toFixed(2)} W per core (${power.source})`;
  log(
    `bench ${runId}${plan.quick ? ' (quick)' : ''} on ${machine.cpuModel}, ${machine.cores} cores; ` +
      `energy: ${energyMethod}`,
  );

  const rows: BenchResultRow[] = [];
  for (const { variants } of models) {
    for (const entry of variants) {
      for (const backend of BACKENDS) {
        // onnxruntime: exactly `models eval`'s computation; tfjs-wasm: its own predictions on the same rows.
        let acc: number | null = backend === 'onnxruntime' ? (await heldOutAccuracy(reg, entry)).accuracy : null;
        for (const threads of threadCountsFor(backend, plan.threads)) {
          const label = `${entry.id}@${entry.version} ${entry.precision} ${backend} threads=${threads}`;
          try {
            const measured = await measureInProcess({
              manifestPath: reg.manifestPath,
              home: reg.home,
              modelId: entry.id,
              modelVersion: entry.version,
              backend,
              threads,
              plan,
              energy: { method: energy.method, wattsPerCore: energy.wattsPerCore, powercapRoot: options.powercapRoot },
              runId,
              writtenAt: startedAt,
              accuracy: acc,
            });
            acc = measured.accuracy;
            rows.push(...measured.rows);
            const ramp = measured.serverSteps
              .map((s) => `${Math.round(s.ratePerS)}/s p99 ${s.p99Ms.toFixed(2)} ms${s.passed ? '' : ' ✗'}`)
              .join(', ');
            log(
              `  ${label}: SingleStream p50 ${measured.singleStreamP50Ms.toFixed(3)} ms, ` +
                `accuracy ${acc?.toFixed(4)}; Server ${ramp}`,
            );
          } catch (error) {
            // e.g. a graph with an op tfjs-wasm does not implement: the other backends still run
            log(`  ${label}: skipped, ${(error as Error).message}`);
          }
        }
      }
    }
  }
  const run = runRow(runId, startedAt, Date.now(), plan.quick, machine, energy, plan.repeats);
  const jsonPath = resolve(options.out ?? join(settings.home, 'bench', `${runId}.json`));
  writeBenchFile(jsonPath, { run, results: rows });
  const warehouse = await writeBenchWarehouse(settings, { run, results: rows });
  return { runId, run, rows, jsonPath, warehouse };
}
