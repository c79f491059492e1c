/** The scenario loops with a stand-in model whose service time is known (1 ms per batch): scheduling logic only. */
import { describe, expect, it } from 'vitest';
import { estimateMeter } from './energy-meter.ts';
import { type ScenarioContext, offline, server, singleStream } from './scenarios.ts';
import { resultRow, summarizeRepetitions } from './result-rows.ts';

const block = new Int32Array(new SharedArrayBuffer(4));
function context(serviceMs: number) {
  const batches: number[] = [];
  let cpuMicros = 0;
  const ctx: ScenarioContext = {
    async query(rows) {
      batches.push(rows);
      cpuMicros += 1000; // 1 ms of "CPU" per batch, so the estimate is known
      Atomics.wait(block, 0, 0, serviceMs);
    },
    energy: estimateMeter({ wattsPerCore: 2, source: 'option' }, () => cpuMicros),
    sampleMemory() {},
  };
  return { ctx, batches };
}

describe('scenarios', () => {
  it('SingleStream runs single items, each repetition long enough and with enough queries', async () => {
    const { ctx, batches } = context(0.2);
    const reps = await singleStream(ctx, { repeats: 3, minRepeatMs: 20, minQueries: 10 });
    expect(reps).toHaveLength(3);
    expect(new Set(batches)).toEqual(new Set([1]));
    for (const rep of reps) {
      expect(rep.latenciesMs.length).toBeGreaterThanOrEqual(10);
      expect(rep.elapsedMs).toBeGreaterThanOrEqual(20);
      expect(rep.items).toBe(rep.latenciesMs.length);
      expect(Math.min(...rep.latenciesMs)).toBeGreaterThanOrEqual(0.15);
      expect((rep.joules / rep.items) * 1000).toBeCloseTo(2, 9); // 1 ms CPU × 2 W per item, per 1,000
    }
  });

  it('Offline runs whole batches of the size asked for', async () => {
    const { ctx, batches } = context(1);
    const reps = await offline(ctx, 32, { repeats: 2, minRepeatMs: 5 });
    expect(new Set(batches)).toEqual(new Set([32]));
    const s = summarizeRepetitions(reps);
    expect(s.items_per_s).toBeGreaterThan(1000); // 32 items per ~1 ms batch
    expect(s.energy_j_per_1k).toBeCloseTo(2 / 32, 9);
  });

  it('Server reports the highest rate under the bound and stops at the first rate over it', async () => {
    const { ctx, batches } = context(1); // ~1,000 single items/s at most, 8,000/s batched
    const result = await server(
      ctx,
      1000,
      { serverRateFactors: [0.1, 0.3, 40], serverStepMs: 300, serverRepeats: 1, serverMaxBatch: 4, serverBoundMs: 60 },
      5,
    );
    expect(result.steps.map((s) => Math.round(s.ratePerS))).toEqual([100, 300, 40_000]);
    expect(result.steps.map((s) => s.passed)).toEqual([true, true, false]);
    expect(result.rate).toBeCloseTo(300, 9);
    expect(result.reported).toBe(result.steps[1]!.reps);
    // queued items are batched up to the maximum, never beyond
    expect(Math.max(...batches)).toBe(4);
    const atRate = result.reported[0]!;
    expect(atRate.items).toBe(atRate.latenciesMs.length);
    expect(Math.min(...atRate.latenciesMs)).toBeGreaterThanOrEqual(0.9); // arrival → answer includes the 1 ms service
  });

  it('Server has no rate when even the lowest one misses the bound', async () => {
    const { ctx } = context(5);
    const result = await server(ctx, 1000, {
      serverRateFactors: [2, 4],
      serverStepMs: 100,
      serverRepeats: 1,
      serverMaxBatch: 1,
      serverBoundMs: 1,
    });
    expect(result.rate).toBeNull();
    expect(result.steps).toHaveLength(1);
    expect(result.reported).toBe(result.steps[0]!.reps);
  });
});

describe('result rows', () => {
  it('summarizes repetitions as medians with the spread of p50 and items/s', () => {
    const rep = (latenciesMs: number[], elapsedMs: number, joules: number) => ({
      latenciesMs,
      items: latenciesMs.length,
      elapsedMs,
      joules,
    });
    const reps = [rep([1, 2, 3, 4], 10, 0.4), rep([2, 2, 2, 9], 20, 0.8), rep([1, 1, 1, 1], 8, 0.2)];
    const s = summarizeRepetitions(reps);
    expect(s).toMatchObject({
      repeats: 3,
      p50_ms: 2,
      p50_ms_min: 1,
      p50_ms_max: 2,
      p99_ms: 4,
      items_per_s: 400,
      items_per_s_min: 200,
      items_per_s_max: 500,
      energy_j_per_1k: 100,
    });
    const row = resultRow(
      {
        runId: 'bench-1',
        writtenAt: 5,
        model: { id: 'postings-a', version: 'v2', precision: 'int8', bytes: 1234 },
        backend: 'onnxruntime',
        threads: 2,
        modelMemoryMb: 3,
        energyMethod: 'estimate',
        accuracy: 0.9,
        heldOutRows: 10,
      },
      { scenario: 'Server', batchSize: 8, reps, peakRssMb: 100, server: { rate: 250, boundMs: 10 } },
    );
    expect(row).toMatchObject({
      id: 'bench-1/postings-a/int8/onnxruntime/Server/8/2',
      variant: 'int8',
      model_version: 'v2',
      server_rate: 250,
      server_bound_ms: 10,
      energy_method: 'estimate',
      peak_rss_mb: 100,
      model_bytes: 1234,
    });
  });
});
