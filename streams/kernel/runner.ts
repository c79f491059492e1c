import { CommitTracker } from './ack.ts';
import { CommitLoop } from './commit-loop.ts';
import { ConsumerLag, type LogEnds } from './consumer-lag.ts';
import { EndToEndLatency, type LatencyStart } from './end-to-end-latency.ts';
import { type LiveRun, nodeKind } from './live-run.ts';
import type { StageSnapshot } from './metrics.ts';
import type { Pipeline } from './pipeline.ts';
import { RunGraph } from './run-graph.ts';
import { runSinkLoop } from './sink-loop.ts';
import { SourceLoop } from './source-loop.ts';
import { runStageLoop } from './stage-loop.ts';

export interface RunOptions {
  /** Stop once the source has nothing more to read; open windows are emitted (end of input). */
  untilIdle?: boolean;
  /** Like `untilIdle`, from the moment this signal fires (a producer running beside the pipeline has finished). */
  inputComplete?: AbortSignal;
  /** Aborting stops reading, drains what is in flight, flushes sinks and commits (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Batches each inter-stage queue may hold before the upstream stage waits. Default 4. */
  queueCapacity?: number;
  commitIntervalMs?: number;
  tickMs?: number;
  pollWaitMs?: number;
  /** Called after every commit, with what was committed (tests and progress displays). */
  onCommit?: (offsets: { topic: string; partition: number; offset: number }[]) => void;
  /**
   * Where end-to-end latency starts: a record's `driftline.sent_at` header, else its read time (default), or always
   * the read time (replays: recorded headers are from another day).
   */
  latencyStart?: LatencyStart;
  /** Log end offsets of the partitions read, for consumer lag; without it lag is not measured. */
  logEnds?: LogEnds;
  /** How often consumer lag is sampled. Default 1000 ms. */
  lagSampleMs?: number;
  /** Called once before the source starts, with live figures a metrics exporter reads on demand (live-run.ts). */
  onStart?: (live: LiveRun) => void;
}

export interface RunResult {
  pipeline: string;
  metrics: StageSnapshot[];
  deadLetters: number;
  durationMs: number;
  /** Wall clock, epoch ms. */
  startedAt: number;
  endedAt: number;
  /** Records the source read. */
  recordsIn: number;
  /** When the first record was read (after connecting, joining the group, loading models); null if none was. */
  firstReadAt: number | null;
  /**
   * Start time (see `latencyStart`) → the record's own rows written (end-to-end-latency.ts); null if nothing was
   * acknowledged.
   */
  endToEnd: { p50Ms: number; p99Ms: number; count: number } | null;
  /** Largest consumer lag sampled (records behind the log end); null without `logEnds` or a successful sample. */
  maxConsumerLag: number | null;
}

/**
 * Runs a pipeline: one async loop per node (source-loop.ts, stage-loop.ts, sink-loop.ts), bounded queues between
 * them (run-graph.ts), acknowledgements flowing back as reference counts, and source offsets committed
 * (commit-loop.ts) only for batches every sink has acknowledged.
 */
export async function runPipeline(pipeline: Pipeline, options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const graph = new RunGraph(pipeline, options.queueCapacity ?? 4);
  const endToEnd = new EndToEndLatency();
  // A batch's latency ends when its records' own rows are written (record sinks), not when windows let go of it.
  const tracker = new CommitTracker((t) => endToEnd.acknowledged(t.start, t.records, t.recordSinkAckAt || Date.now()));
  const lag = options.logEnds ? new ConsumerLag(options.logEnds) : undefined;
  let failure: unknown;
  const fail = (error: unknown): undefined => {
    failure ??= error;
  };
  const commits = new CommitLoop(tracker, graph.source, options.onCommit);
  const failed = () => failure !== undefined;
  const sourceLoopOptions = { ...sourceOptions(options), starters: pipeline.starters, failed };
  const source = new SourceLoop(graph, tracker, lag, sourceLoopOptions);
  options.onStart?.(liveRun(graph, endToEnd, lag));
  commits.start(options.commitIntervalMs ?? 1000, fail);
  const lagTimer = lag ? setInterval(() => void lag.sample(), options.lagSampleMs ?? 1000) : undefined;
  try {
    // The first failing loop fails the run (and stops the source); nothing unacknowledged gets committed.
    const loops = allLoops(graph, source);
    await Promise.all(loops.map((loop) => loop.catch((error) => Promise.reject(fail(error) ?? error))));
    if (failure !== undefined) throw failure;
    await commits.commit();
  } finally {
    commits.stop();
    clearInterval(lagTimer);
    await lag?.settle();
    if (failure !== undefined) await Promise.allSettled(pipeline.closers.map(async (close) => close()));
  }
  await closeAll(pipeline, graph);
  return resultOf(graph, started, source.firstReadAt, endToEnd, lag);
}

function allLoops(graph: RunGraph, source: SourceLoop): Promise<void>[] {
  const stages = graph.nodes.filter((n) => n.stage).map((n) => runStageLoop(n, graph));
  const sinks = graph.nodes.filter((n) => n.sink).map((n) => runSinkLoop(n, graph));
  return [source.run(), ...stages, ...sinks];
}

function resultOf(
  graph: RunGraph,
  started: number,
  firstReadAt: number | null,
  endToEnd: EndToEndLatency,
  lag?: ConsumerLag,
): RunResult {
  const snapshots = graph.nodes.map((n) => graph.metricsOf(n).snapshot());
  const ended = Date.now();
  return {
    pipeline: graph.name,
    metrics: snapshots,
    deadLetters: snapshots.reduce((sum, s) => sum + s.deadLetters, 0),
    durationMs: ended - started,
    startedAt: started,
    endedAt: ended,
    recordsIn: graph.metricsOf(graph.sourceNode).recordsIn,
    firstReadAt,
    endToEnd: endToEnd.summary(),
    maxConsumerLag: lag?.max ?? null,
  };
}

function sourceOptions(options: RunOptions) {
  return {
    pollWaitMs: options.pollWaitMs ?? 100,
    tickMs: options.tickMs ?? 200,
    latencyStart: options.latencyStart ?? 'sent-or-read',
    untilIdle: options.untilIdle,
    inputComplete: options.inputComplete,
    signal: options.signal,
  };
}

function liveRun(graph: RunGraph, endToEnd: EndToEndLatency, lag: ConsumerLag | undefined): LiveRun {
  return {
    pipeline: graph.name,
    nodes: graph.nodes.map((node) => ({ kind: nodeKind(node), metrics: graph.metricsOf(node) })),
    endToEnd: endToEnd.histogram,
    consumerLag: () => lag?.lastByPartition ?? [],
  };
}

/** After a run: sinks (the dead-letter sink last), the source, then the pipeline's own resources, in order. */
async function closeAll(pipeline: Pipeline, graph: RunGraph): Promise<void> {
  await Promise.all(pipeline.nodes.filter((n) => n.sink).map((n) => n.sink!.close?.()));
  await graph.deadLetterNode.sink!.close?.();
  await graph.source.close();
  for (const close of pipeline.closers) await close();
}
