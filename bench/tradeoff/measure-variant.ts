/**
 * Measures one model variant on one backend with one intra-op thread count: loads a session, warms it up, then
 * runs SingleStream, Offline (every batch size of the plan) and Server, and returns one result row per scenario
 * and batch size. Queries use the variant's held-out inputs (cycled), so the work is the real model on real data.
 */
import { memoryUsage } from 'node:process';
import type { HeldOut } from '../../models/model-contract.ts';
import type { ModelEntry } from '../../models/registry/registry.ts';
import { loadTfjs } from '../../models/infer/onnx-tfjs.js';
import { type Backend, openBenchSession } from './backend-session.ts';
import type { BenchPlan } from './bench-plan.ts';
import type { EnergyMeter } from './energy-meter.ts';
import {
  type BenchResultRow,
  type ResultContext,
  type ScenarioOutcome,
  resultRow,
  summarizeRepetitions,
} from './result-rows.ts';
import { type ScenarioContext, offline, server, singleStream } from './scenarios.ts';

const MB = 2 ** 20;

/** Highest RSS seen since the last reset (sampled: the scenarios call `sample` between queries). */
class RssSampler {
  peak = 0;
  sample(): number {
    const rss = memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    return rss;
  }
  reset(): void {
    this.peak = 0;
    this.sample();
  }
}

/** Batch inputs made of held-out rows, cycled: one buffer per batch size, reused; single items are views. */
function batchInputs(heldOut: HeldOut) {
  const rows = heldOut.shape[0]!;
  const width = heldOut.inputs.length / rows;
  const batches = new Map<number, Float32Array>();
  let nextSingle = 0;
  return (size: number): Float32Array => {
    if (size === 1) {
      const r = nextSingle++ % rows;
      return heldOut.inputs.subarray(r * width, (r + 1) * width);
    }
    let batch = batches.get(size);
    if (!batch) {
      batch = new Float32Array(size * width);
      for (let i = 0; i < size; i++)
        batch.set(heldOut.inputs.subarray((i % rows) * width, ((i % rows) + 1) * width), i * width);
      batches.set(size, batch);
    }
    return batch;
  };
}

export interface VariantMeasurement {
  rows: BenchResultRow[];
  /** For the log: SingleStream p50 and the Server ramp. */
  singleStreamP50Ms: number;
  serverSteps: { ratePerS: number; p99Ms: number; passed: boolean }[];
}

export async function measureVariant(args: {
  entry: ModelEntry;
  bytes: Uint8Array;
  heldOut: HeldOut;
  backend: Backend;
  threads: number;
  plan: BenchPlan;
  energy: EnergyMeter;
  result: Omit<ResultContext, 'backend' | 'threads' | 'modelMemoryMb'>;
  /** Called with the session after the scenarios (tfjs-wasm: its held-out accuracy is computed there, after the
   * memory figures: WASM memory grown by the large held-out batches never shrinks). */
  afterScenarios?: (run: (data: Float32Array, rows: number) => Promise<Float32Array>) => Promise<void>;
}): Promise<VariantMeasurement> {
  const { entry, heldOut, backend, threads, plan } = args;
  const rss = new RssSampler();
  if (backend === 'tfjs-wasm') await loadTfjs(); // the runtime itself is not the model's memory
  const before = rss.sample();
  const session = await openBenchSession(args.bytes, {
    backend,
    threads,
    precision: entry.precision,
    itemShape: heldOut.shape.slice(1),
  });
  try {
    const input = batchInputs(heldOut);
    const query = (rows: number) => session.run(input(rows), rows);
    await query(1); // the first run allocates the runtime's buffers: part of the model's memory
    const modelMemoryMb = Math.max(0, (rss.sample() - before) / MB);
    for (let i = 0; i < plan.warmupQueries; i++) await query(1);

    const ctx: ScenarioContext = { query, energy: args.energy, sampleMemory: () => void rss.sample() };
    const result: ResultContext = { ...args.result, backend, threads, modelMemoryMb };
    const outcomes: ScenarioOutcome[] = [];
    const scenario = async (run: () => Promise<Omit<ScenarioOutcome, 'peakRssMb'>>) => {
      rss.reset();
      const outcome = await run();
      outcomes.push({ ...outcome, peakRssMb: rss.peak / MB });
      return outcome;
    };

    const single = await scenario(async () => ({
      scenario: 'SingleStream',
      batchSize: 1,
      reps: await singleStream(ctx, plan),
    }));
    const { p50_ms: singleStreamP50Ms, items_per_s: singleStreamPerS } = summarizeRepetitions(single.reps);
    for (const batch of plan.offlineBatchSizes)
      await scenario(async () => ({ scenario: 'Offline', batchSize: batch, reps: await offline(ctx, batch, plan) }));
    // Server rates are multiples of what one stream of single items sustained (items/s, overheads included).
    let serverSteps: VariantMeasurement['serverSteps'] = [];
    await scenario(async () => {
      const s = await server(ctx, singleStreamPerS, plan);
      serverSteps = s.steps.map(({ ratePerS, p99Ms, passed }) => ({ ratePerS, p99Ms, passed }));
      return {
        scenario: 'Server',
        batchSize: plan.serverMaxBatch,
        reps: s.reported,
        server: { rate: s.rate, boundMs: plan.serverBoundMs },
      };
    });
    if (args.afterScenarios) await args.afterScenarios((data, rows) => session.run(data, rows));
    return { rows: outcomes.map((o) => resultRow(result, o)), singleStreamP50Ms, serverSteps };
  } finally {
    await session.release();
  }
}
