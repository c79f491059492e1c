/**
 * The three MLPerf inference scenarios over one loaded model. Each takes `query(rows)`, which runs one batch of
 * `rows` items on the model and resolves when the answer is there, and returns raw repetitions; result-rows.ts
 * turns them into medians and spreads.
 *   - SingleStream: one item at a time, the next as soon as the previous answered: latency per item.
 *   - Offline: batches of one size back to back: throughput (runner: over several sizes, the best is the answer).
 *   - Server: items arrive as a Poisson process at increasing rates; whenever the model is free it takes every
 *     item that has arrived (up to a maximum batch). Latency runs from an item's arrival to its answer, so
 *     queueing counts. The answer is the highest rate whose p99 stays under the bound.
 */
import type { EnergyMeter } from './energy-meter.ts';
import { summarizeLatencies } from './percentiles.ts';
import { poissonArrivals } from './poisson-schedule.ts';

export interface Repetition {
  /** Per query (SingleStream, Offline) or per item from arrival (Server). */
  latenciesMs: number[];
  items: number;
  elapsedMs: number;
  joules: number;
}

export interface ScenarioContext {
  query(rows: number): Promise<unknown>;
  energy: EnergyMeter;
  /** Called between queries now and then, so peak memory is seen. */
  sampleMemory(): void;
}

/** Queries of `rows` items back to back until both `minMs` and `minQueries` are reached. */
async function backToBack(ctx: ScenarioContext, rows: number, minMs: number, minQueries: number): Promise<Repetition> {
  const latenciesMs: number[] = [];
  const joulesSince = ctx.energy.start();
  const start = performance.now();
  let now = start;
  while (latenciesMs.length < minQueries || now - start < minMs) {
    const t = performance.now();
    await ctx.query(rows);
    now = performance.now();
    latenciesMs.push(now - t);
    if (rows > 1 || latenciesMs.length % 64 === 0) ctx.sampleMemory();
  }
  const joules = joulesSince();
  ctx.sampleMemory();
  return { latenciesMs, items: latenciesMs.length * rows, elapsedMs: now - start, joules };
}

export async function singleStream(
  ctx: ScenarioContext,
  plan: { repeats: number; minRepeatMs: number; minQueries: number },
): Promise<Repetition[]> {
  const reps: Repetition[] = [];
  for (let r = 0; r < plan.repeats; r++) reps.push(await backToBack(ctx, 1, plan.minRepeatMs, plan.minQueries));
  return reps;
}

/** One batch size; batches per repetition: at least 2 and enough for `minRepeatMs`. */
export async function offline(
  ctx: ScenarioContext,
  batch: number,
  plan: { repeats: number; minRepeatMs: number },
): Promise<Repetition[]> {
  await ctx.query(batch); // warm-up at this size (allocations for the new shape)
  const reps: Repetition[] = [];
  for (let r = 0; r < plan.repeats; r++) reps.push(await backToBack(ctx, batch, plan.minRepeatMs, 2));
  return reps;
}

// Waiting for the next arrival blocks on a futex rather than spinning, so idle time costs no CPU (and no estimated
// energy).
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleepMs = (ms: number) => void Atomics.wait(sleeper, 0, 0, ms);

/** One run at `ratePerS` for `durationMs`; `overrun` when the backlog made it last over 3× as long. */
export async function serverRun(
  ctx: ScenarioContext,
  ratePerS: number,
  durationMs: number,
  maxBatch: number,
  seed: number,
): Promise<Repetition & { overrun: boolean }> {
  const arrivals = poissonArrivals(ratePerS, durationMs, seed);
  const latenciesMs: number[] = [];
  const joulesSince = ctx.energy.start();
  const start = performance.now();
  let next = 0;
  let queries = 0;
  let overrun = false;
  while (next < arrivals.length) {
    let now = performance.now() - start;
    if (now > durationMs * 3) {
      overrun = true;
      break;
    }
    if (arrivals[next]! > now) {
      sleepMs(arrivals[next]! - now);
      now = performance.now() - start;
    }
    let end = next;
    while (end < arrivals.length && end - next < maxBatch && arrivals[end]! <= now) end++;
    end = Math.max(end, next + 1); // the futex may wake a few µs early
    await ctx.query(end - next);
    const done = performance.now() - start;
    for (let i = next; i < end; i++) latenciesMs.push(done - Math.min(arrivals[i]!, now));
    next = end;
    if (++queries % 64 === 0) ctx.sampleMemory();
  }
  const elapsedMs = performance.now() - start;
  return {
    latenciesMs,
    items: latenciesMs.length,
    elapsedMs: Math.max(elapsedMs, durationMs),
    joules: joulesSince(),
    overrun,
  };
}

export interface ServerStep {
  ratePerS: number;
  /** Median over the step's repetitions. */
  p99Ms: number;
  passed: boolean;
  reps: Repetition[];
}

export interface ServerResult {
  /** Highest passing rate (items/s), or null when even the lowest failed. */
  rate: number | null;
  steps: ServerStep[];
  /** Repetitions at the reported rate (the lowest step when none passed). */
  reported: Repetition[];
}

/** Increasing rates (`capacityPerS` × each factor) until one fails the bound. */
export async function server(
  ctx: ScenarioContext,
  capacityPerS: number,
  plan: {
    serverRateFactors: number[];
    serverStepMs: number;
    serverRepeats: number;
    serverMaxBatch: number;
    serverBoundMs: number;
  },
  seed = 1,
): Promise<ServerResult> {
  const steps: ServerStep[] = [];
  for (const [i, factor] of plan.serverRateFactors.entries()) {
    const ratePerS = capacityPerS * factor;
    const reps: (Repetition & { overrun: boolean })[] = [];
    for (let r = 0; r < plan.serverRepeats; r++)
      reps.push(await serverRun(ctx, ratePerS, plan.serverStepMs, plan.serverMaxBatch, seed + i * 1000 + r));
    const p99s = reps
      .map((rep) => (rep.latenciesMs.length ? summarizeLatencies(rep.latenciesMs).p99 : Infinity))
      .sort((a, b) => a - b);
    const p99Ms = p99s[Math.floor((p99s.length - 1) / 2)]!;
    const passed = p99Ms <= plan.serverBoundMs && !reps.some((rep) => rep.overrun);
    steps.push({ ratePerS, p99Ms, passed, reps });
    if (!passed) break;
  }
  const best = steps.filter((s) => s.passed).at(-1);
  return { rate: best?.ratePerS ?? null, steps, reported: (best ?? steps[0]!).reps };
}
