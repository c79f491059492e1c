/**
 * How much a benchmark run measures. The full plan is the default; `--quick` trims it to finish in under two
 * minutes on a 2-core machine with two models and their int8/fp16 variants (README: what it trims).
 */
export interface BenchPlan {
  quick: boolean;
  /** Measured repetitions of SingleStream and of each Offline batch size (after one warm-up). */
  repeats: number;
  /** Each repetition lasts at least this long and this many queries. */
  minRepeatMs: number;
  minQueries: number;
  /** Offline batch sizes; the best one is the scenario's answer. */
  offlineBatchSizes: number[];
  /** Intra-op threads (ONNX Runtime; tfjs-wasm has 1). */
  threads: number[];
  /** Server: arrival rates as multiples of the SingleStream throughput (items/s), tried in increasing order. */
  serverRateFactors: number[];
  /** Server: duration of each rate step and how many times it is run (the p99 compared is the median over them). */
  serverStepMs: number;
  serverRepeats: number;
  /**
   * Server: queued queries are batched up to this many when the model is free (as the infer operator micro-batches).
   */
  serverMaxBatch: number;
  /** Server: the latency bound on p99. */
  serverBoundMs: number;
  /** Warm-up queries before any measurement of a session. */
  warmupQueries: number;
}

export const DEFAULT_SERVER_BOUND_MS = 10;

export function benchPlan(
  options: { quick?: boolean; repeats?: number; serverBoundMs?: number; threads?: number[] } = {},
): BenchPlan {
  const base: BenchPlan = options.quick
    ? {
        quick: true,
        repeats: 3,
        minRepeatMs: 100,
        minQueries: 16,
        offlineBatchSizes: [16, 128],
        threads: [1, 2],
        serverRateFactors: [0.5, 1, 2],
        serverStepMs: 250,
        serverRepeats: 1,
        serverMaxBatch: 8,
        serverBoundMs: DEFAULT_SERVER_BOUND_MS,
        warmupQueries: 8,
      }
    : {
        quick: false,
        repeats: 10,
        minRepeatMs: 300,
        minQueries: 64,
        offlineBatchSizes: [1, 8, 32, 128, 256],
        threads: [1, 2],
        serverRateFactors: [0.25, 0.5, 0.75, 1, 1.5, 2, 3],
        serverStepMs: 1000,
        serverRepeats: 3,
        serverMaxBatch: 8,
        serverBoundMs: DEFAULT_SERVER_BOUND_MS,
        warmupQueries: 32,
      };
  if (options.repeats !== undefined) {
    if (!(Number.isInteger(options.repeats) && options.repeats >= 1))
      throw new Error(`repeats must be a positive integer, got ${options.repeats}`);
    base.repeats = options.repeats;
  }
  if (options.serverBoundMs !== undefined) {
    if (!(options.serverBoundMs > 0))
      throw new Error(`the Server latency bound must be positive, got ${options.serverBoundMs}`);
    base.serverBoundMs = options.serverBoundMs;
  }
  if (options.threads !== undefined) base.threads = options.threads;
  return base;
}
