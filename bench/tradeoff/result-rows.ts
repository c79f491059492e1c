/**
 * Rows of `bench_runs` and `bench_results` (columns documented in connectors/warehouse/tables.ts). The JSON file
 * holds exactly these rows, so it and the warehouse agree.
 */
import { spread } from '../stats.ts';
import { compositeId } from '../../connectors/warehouse/tables.ts';
import type { Backend } from './backend-session.ts';
import type { EnergyMethod } from './energy-meter.ts';
import type { MachineInfo } from './machine-info.ts';
import { summarizeLatencies } from './percentiles.ts';
import type { Repetition } from './scenarios.ts';

export type Scenario = 'SingleStream' | 'Offline' | 'Server';

export interface BenchRunRow {
  id: string;
  version: number;
  run_id: string;
  started_at: number;
  ended_at: number;
  quick: number;
  cpu_model: string;
  cores: number;
  memory_gb: number;
  node_version: string;
  onnxruntime_version: string;
  tfjs_version: string;
  energy_method: EnergyMethod;
  watts_per_core: number | null;
  repeats: number;
}

export interface BenchResultRow {
  id: string;
  version: number;
  run_id: string;
  model_id: string;
  model_version: string;
  variant: string;
  backend: Backend;
  scenario: Scenario;
  batch_size: number;
  threads: number;
  repeats: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  p50_ms_min: number | null;
  p50_ms_max: number | null;
  items_per_s: number;
  items_per_s_min: number;
  items_per_s_max: number;
  server_rate: number | null;
  server_bound_ms: number | null;
  peak_rss_mb: number;
  model_bytes: number;
  model_memory_mb: number | null;
  energy_j_per_1k: number;
  energy_method: EnergyMethod;
  accuracy: number | null;
  heldout_rows: number;
}

export function runRow(
  runId: string,
  startedAt: number,
  endedAt: number,
  quick: boolean,
  machine: MachineInfo,
  energy: { method: EnergyMethod; wattsPerCore: number | null },
  repeats: number,
): BenchRunRow {
  return {
    id: runId,
    version: endedAt,
    run_id: runId,
    started_at: startedAt,
    ended_at: endedAt,
    quick: quick ? 1 : 0,
    cpu_model: machine.cpuModel,
    cores: machine.cores,
    memory_gb: machine.memoryGb,
    node_version: machine.nodeVersion,
    onnxruntime_version: machine.onnxruntimeVersion,
    tfjs_version: machine.tfjsVersion,
    energy_method: energy.method,
    watts_per_core: energy.wattsPerCore,
    repeats,
  };
}

/**
 * Latency, throughput and energy of a scenario's repetitions: medians over them, with the spread of p50 and items/s.
 */
export function summarizeRepetitions(reps: Repetition[]) {
  if (reps.length === 0) throw new Error('no repetitions to summarize');
  const latencies = reps.map((r) => summarizeLatencies(r.latenciesMs));
  const p50 = spread(latencies.map((l) => l.p50));
  const itemsPerS = spread(reps.map((r) => r.items / (r.elapsedMs / 1000)));
  return {
    repeats: reps.length,
    p50_ms: p50.median,
    p90_ms: spread(latencies.map((l) => l.p90)).median,
    p99_ms: spread(latencies.map((l) => l.p99)).median,
    p50_ms_min: p50.min,
    p50_ms_max: p50.max,
    items_per_s: itemsPerS.median,
    items_per_s_min: itemsPerS.min,
    items_per_s_max: itemsPerS.max,
    energy_j_per_1k: spread(reps.map((r) => (r.joules / r.items) * 1000)).median,
  };
}

export interface ResultContext {
  runId: string;
  writtenAt: number;
  model: { id: string; version: string; precision: string; bytes: number };
  backend: Backend;
  threads: number;
  modelMemoryMb: number | null;
  energyMethod: EnergyMethod;
  accuracy: number | null;
  heldOutRows: number;
}

export interface ScenarioOutcome {
  scenario: Scenario;
  batchSize: number;
  reps: Repetition[];
  /** Highest RSS sampled while the scenario ran. */
  peakRssMb: number;
  server?: { rate: number | null; boundMs: number };
}

export function resultRow(
  ctx: ResultContext,
  { scenario, batchSize, reps, peakRssMb, server }: ScenarioOutcome,
): BenchResultRow {
  const { model } = ctx;
  return {
    id: compositeId(ctx.runId, model.id, model.precision, ctx.backend, scenario, batchSize, ctx.threads),
    version: ctx.writtenAt,
    run_id: ctx.runId,
    model_id: model.id,
    model_version: model.version,
    variant: model.precision,
    backend: ctx.backend,
    scenario,
    batch_size: batchSize,
    threads: ctx.threads,
    ...summarizeRepetitions(reps),
    server_rate: server ? server.rate : null,
    server_bound_ms: server ? server.boundMs : null,
    peak_rss_mb: peakRssMb,
    model_bytes: model.bytes,
    model_memory_mb: ctx.modelMemoryMb,
    energy_method: ctx.energyMethod,
    accuracy: ctx.accuracy,
    heldout_rows: ctx.heldOutRows,
  };
}
