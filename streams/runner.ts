import type { TopicPartition } from '../connectors/transport.ts';
import { type AckToken, CommitTracker, releaseAll, retainAll } from './ack.ts';
import { BoundedQueue } from './bounded-queue.ts';
import { ConsumerLag, type LogEnds } from './consumer-lag.ts';
import { EndToEndLatency, type LatencyStart, startTimes } from './end-to-end-latency.ts';
import { type LiveRun, nodeKind } from './live-run.ts';
import { StageMetrics, type StageSnapshot } from './metrics.ts';
import type { GraphNode, Pipeline } from './pipeline.ts';
import type { DeadLetter, StreamRecord } from './record.ts';
import type { RejectRecord, Sink } from './sink.ts';
import { type Batch, MAIN, type Port, type StageOutput, reasonOf } from './stage.ts';

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
  /** Start time (see `latencyStart`) → the record's own rows written (end-to-end-latency.ts); null if nothing was acknowledged. */
  endToEnd: { p50Ms: number; p99Ms: number; count: number } | null;
  /** Largest consumer lag sampled (records behind the log end); null without `logEnds` or a successful sample. */
  maxConsumerLag: number | null;
}

type Item =
  | { kind: 'batch'; batch: Batch<unknown> }
  | { kind: 'tick'; now: number }
  | { kind: 'revoke'; partitions: TopicPartition[] }
  | { kind: 'end' }
  | { kind: 'stop' };

const DEAD_LETTERS = '__dead_letters__';

/** Collects what a stage emits during one call, so the runtime can forward it with backpressure afterwards. */
class Collector implements StageOutput<unknown> {
  readonly emitted: Array<{ batch: Batch<unknown>; port: Port }> = [];
  readonly deadLetters: DeadLetter[] = [];
  constructor(
    private readonly stage: string,
    private readonly metrics: StageMetrics,
  ) {}

  emit(batch: Batch<unknown>, port: Port = MAIN): void {
    this.emitted.push({ batch, port });
  }

  emitSide(port: Port, batch: Batch<unknown>): void {
    // 'late': the window operators' side output (operators/window LATE_PORT), counted so runs can report it.
    if (port === 'late') this.metrics.late += batch.records.length;
    this.emitted.push({ batch, port });
  }

  deadLetter(record: StreamRecord<unknown>, error: unknown): void {
    const reason = reasonOf(error);
    this.metrics.countDeadLetter(reason);
    this.deadLetters.push(deadLetterOf(this.stage, record, reason));
  }
}

/** A record as a dead letter of `stage`: its original bytes (or its value as JSON when it has none) and position. */
function deadLetterOf(stage: string, record: StreamRecord<unknown>, reason: string): DeadLetter {
  return {
    stage,
    error: reason,
    position: record.position,
    key: record.key,
    original: record.raw ?? Buffer.from(safeJson(record.value)),
    eventTime: record.eventTime,
    failedAt: Date.now(),
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Writes dead letters to stderr when a pipeline has no dead-letter sink, so none vanish silently. */
const stderrDeadLetters: Sink<DeadLetter> = {
  name: 'dead-letters-stderr',
  async write(records) {
    for (const r of records) {
      const d = r.value;
      process.stderr.write(`dead letter from ${d.stage} at ${d.position.topic}/${d.position.partition}@${d.position.offset}: ${d.error}\n`);
    }
  },
};

/**
 * Sinks reached from the source without passing a stateful stage (one with `onTick`/`onEnd`: windows, which hold
 * records until event time closes them): where a record's own rows land, so where its end-to-end latency ends.
 */
function sinksNotBehindWindows(source: GraphNode): Set<GraphNode> {
  const found = new Set<GraphNode>();
  const seen = new Set<GraphNode>();
  const visit = (node: GraphNode) => {
    for (const child of [...node.children.values()].flat()) {
      if (seen.has(child)) continue;
      seen.add(child);
      if (child.sink) found.add(child);
      else if (child.stage && !child.stage.onTick && !child.stage.onEnd) visit(child);
    }
  };
  visit(source);
  return found;
}

/**
 * Runs a pipeline: one async loop per node, bounded queues between them, acknowledgements flowing back as
 * reference counts, and source offsets committed only for batches every sink has acknowledged.
 */
export async function runPipeline(pipeline: Pipeline, options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const capacity = options.queueCapacity ?? 4;
  const tickMs = options.tickMs ?? 200;
  const pollWaitMs = options.pollWaitMs ?? 100;
  const sourceNode = pipeline.nodes.find((n) => n.source);
  if (!sourceNode?.source) throw new Error(`pipeline ${pipeline.name} has no source`);
  const source = sourceNode.source;
  for (const n of pipeline.nodes) {
    if (n.stage && n.children.size === 0) throw new Error(`pipeline ${pipeline.name}: stage "${n.name}" leads nowhere; end it with .to(sink)`);
  }

  const metrics = new Map<GraphNode, StageMetrics>();
  const queues = new Map<GraphNode, BoundedQueue<Item>>();
  for (const n of pipeline.nodes) {
    const m = new StageMetrics(n.name);
    metrics.set(n, m);
    if (!n.source) {
      const q = new BoundedQueue<Item>(capacity);
      queues.set(n, q);
      m.queueDepth = () => q.depth;
      m.maxQueueDepth = () => q.maxDepth;
    }
  }

  // Every stage may dead-letter, and every sink may reject records, so the dead-letter sink hears from all of them.
  const stageNodes = pipeline.nodes.filter((n) => n.stage);
  const sinkNodes = pipeline.nodes.filter((n) => n.sink);
  const deadLetterNode: GraphNode = {
    id: -1,
    name: DEAD_LETTERS,
    sink: (pipeline.deadLetterSink ?? stderrDeadLetters) as Sink<unknown>,
    children: new Map(),
    parents: stageNodes.length + sinkNodes.length,
  };
  const deadLetterMetrics = new StageMetrics(deadLetterNode.sink!.name);
  const deadLetterQueue = new BoundedQueue<Item>(capacity * 4);
  deadLetterMetrics.queueDepth = () => deadLetterQueue.depth;
  deadLetterMetrics.maxQueueDepth = () => deadLetterQueue.maxDepth;
  metrics.set(deadLetterNode, deadLetterMetrics);
  queues.set(deadLetterNode, deadLetterQueue);

  let firstReadAt: number | null = null;
  const endToEnd = new EndToEndLatency();
  // A batch's latency ends when its records' own rows are written (record sinks), not when windows let go of it.
  const tracker = new CommitTracker((token) => endToEnd.acknowledged(token.start, token.records, token.recordSinkAckAt || Date.now()));
  const recordSinks = sinksNotBehindWindows(sourceNode);
  const latencyStart = options.latencyStart ?? 'sent-or-read';
  const lag = options.logEnds ? new ConsumerLag(options.logEnds) : undefined;
  let failure: unknown;
  const fail = (error: unknown): undefined => {
    failure ??= error;
  };

  const forward = async (node: GraphNode, port: Port, batch: Batch<unknown>) => {
    const children = node.children.get(port) ?? [];
    if (children.length === 0 || (batch.records.length === 0 && batch.tokens.length === 0)) {
      releaseAll(batch.tokens);
      return;
    }
    if (batch.records.length === 0) {
      // Nothing to deliver: the batch is done here (a filter dropped everything, say).
      releaseAll(batch.tokens);
      return;
    }
    metrics.get(node)!.recordsOut += batch.records.length;
    retainAll(batch.tokens, children.length - 1);
    for (const child of children) await queues.get(child)!.push({ kind: 'batch', batch: { records: batch.records, tokens: batch.tokens.slice() } });
  };

  const broadcast = async (node: GraphNode, item: Item) => {
    const targets = [...node.children.values()].flat();
    if (node.stage) targets.push(deadLetterNode);
    for (const child of targets) {
      const q = queues.get(child)!;
      if (item.kind === 'tick') {
        if (q.hasRoom) q.pushNow(item); // ticks are advisory: never wait for them
      } else if (item.kind === 'revoke') q.pushNow(item);
      else await q.push(item);
    }
  };

  /** Dead letters hold the offsets of the batch they came from until the dead-letter sink has them too. */
  const queueDeadLetters = async (letters: DeadLetter[], tokens: AckToken[]) => {
    retainAll(tokens);
    const records = letters.map((d) => ({ key: d.key, value: d, eventTime: d.eventTime, headers: {}, position: d.position }));
    await deadLetterQueue.push({ kind: 'batch', batch: { records, tokens: tokens.slice() } });
  };

  const deliver = async (node: GraphNode, collector: Collector, inputTokens: AckToken[] | null) => {
    if (collector.deadLetters.length > 0) await queueDeadLetters(collector.deadLetters, inputTokens ?? []);
    for (const { batch, port } of collector.emitted) await forward(node, port, batch);
  };

  const runStage = async (node: GraphNode) => {
    const stage = node.stage!;
    const queue = queues.get(node)!;
    const m = metrics.get(node)!;
    let endsSeen = 0;
    for (;;) {
      const item = await queue.pop();
      const out = new Collector(node.name, m);
      if (item.kind === 'batch') {
        const t0 = performance.now();
        m.recordsIn += item.batch.records.length;
        m.batches += 1;
        const inputTokens = item.batch.tokens.slice();
        // Keep the input batch alive until its dead letters (if any) are queued.
        retainAll(inputTokens);
        await stage.onBatch(item.batch, out);
        m.batchLatency.record(performance.now() - t0);
        await deliver(node, out, inputTokens);
        releaseAll(inputTokens);
      } else if (item.kind === 'tick') {
        stage.onTick?.(item.now, out);
        await deliver(node, out, null);
        await broadcast(node, item);
      } else if (item.kind === 'revoke') {
        stage.onRevoke?.(item.partitions);
        await broadcast(node, item);
      } else {
        if (++endsSeen < node.parents) continue;
        if (item.kind === 'end') {
          await stage.onEnd?.(out);
          await deliver(node, out, null);
        }
        await broadcast(node, item);
        return;
      }
    }
  };

  const runSink = async (node: GraphNode) => {
    const sink = node.sink!;
    const queue = queues.get(node)!;
    const m = metrics.get(node)!;
    const target = sink.batchRecords ?? 1;
    const maxWaitMs = sink.maxWaitMs ?? 1000;
    let records: StreamRecord<unknown>[] = [];
    let tokens: AckToken[] = [];
    let oldest = 0;
    let endsSeen = 0;
    const concurrency = sink.concurrency ?? 1;
    const recordSink = node === deadLetterNode || recordSinks.has(node);
    const inFlight: Promise<void>[] = [];
    const flush = async () => {
      if (records.length === 0) {
        releaseAll(tokens);
        tokens = [];
        return;
      }
      const batchRecords = records;
      const batchTokens = tokens;
      records = [];
      tokens = [];
      const t0 = performance.now();
      // Records the sink refuses become dead letters; the dead-letter sink itself has no one to hand them to.
      const rejected: DeadLetter[] = [];
      const reject: RejectRecord | undefined =
        node === deadLetterNode
          ? undefined
          : (record, reason) => {
              m.countDeadLetter(reason);
              rejected.push(deadLetterOf(sink.name, record, reason));
            };
      const write = sink.write(batchRecords, reject).then(async () => {
        if (rejected.length > 0) await queueDeadLetters(rejected, batchTokens);
        if (recordSink) {
          const now = Date.now();
          for (const t of batchTokens) t.recordSinkAckAt = now;
        }
        m.batchLatency.record(performance.now() - t0);
        m.batches += 1;
        m.recordsOut += batchRecords.length - rejected.length;
        releaseAll(batchTokens);
      });
      write.catch(() => {}); // surfaced when awaited below; avoids an unhandled rejection meanwhile
      inFlight.push(write);
      if (inFlight.length >= concurrency) await inFlight.shift();
    };
    const drain = async () => {
      await flush();
      while (inFlight.length > 0) await inFlight.shift();
    };
    for (;;) {
      const item = await queue.pop();
      if (item.kind === 'batch') {
        if (records.length === 0) oldest = Date.now();
        m.recordsIn += item.batch.records.length;
        for (const r of item.batch.records) records.push(r);
        for (const t of item.batch.tokens) tokens.push(t);
        if (records.length >= target) await flush();
      } else if (item.kind === 'tick') {
        if (records.length > 0 && item.now - oldest >= maxWaitMs) await flush();
      } else if (item.kind === 'end' || item.kind === 'stop') {
        if (++endsSeen < node.parents) continue;
        await drain();
        // Only now can this sink reject nothing more: the dead-letter sink waits for this before it ends.
        if (node !== deadLetterNode) await deadLetterQueue.push(item);
        return;
      }
    }
  };

  let committing: Promise<void> = Promise.resolve();
  const commit = () => {
    committing = committing.then(async () => {
      const offsets = tracker.takeCommittable();
      if (offsets.length === 0) return;
      await source.commit(offsets);
      options.onCommit?.(offsets);
    });
    return committing;
  };

  const pendingRevokes: TopicPartition[][] = [];
  source.onRevoked((partitions) => {
    tracker.revoke(partitions);
    pendingRevokes.push(partitions);
  });

  const runSource = async () => {
    let lastTick = Date.now();
    const m = metrics.get(sourceNode)!;
    let ending: 'end' | 'stop' = 'stop';
    for (const start of pipeline.starters) await start();
    while (!options.signal?.aborted && failure === undefined) {
      const batches = await source.poll(pollWaitMs);
      const readAt = Date.now();
      while (pendingRevokes.length > 0) await broadcast(sourceNode, { kind: 'revoke', partitions: pendingRevokes.shift()! });
      for (const b of batches) {
        if (b.records.length === 0) continue;
        const token = tracker.track(b.topic, b.partition, b.nextOffset, b.records.length, startTimes(b.records, readAt, latencyStart));
        lag?.read(b.topic, b.partition, b.nextOffset);
        m.recordsIn += b.records.length;
        m.batches += 1;
        await forward(sourceNode, MAIN, { records: b.records as StreamRecord<unknown>[], tokens: [token] });
      }
      if (firstReadAt === null && batches.length > 0) {
        firstReadAt = readAt;
        void lag?.sample(); // the backlog a run starts with is usually its largest lag
      }
      const now = Date.now();
      if (now - lastTick >= tickMs) {
        lastTick = now;
        await broadcast(sourceNode, { kind: 'tick', now });
      }
      if ((options.untilIdle || options.inputComplete?.aborted) && batches.length === 0 && (await source.caughtUp())) {
        ending = 'end';
        break;
      }
    }
    await broadcast(sourceNode, { kind: ending });
  };

  options.onStart?.({
    pipeline: pipeline.name,
    nodes: [...metrics].map(([node, m]) => ({ kind: nodeKind(node), metrics: m })),
    endToEnd: endToEnd.histogram,
    consumerLag: () => lag?.lastByPartition ?? [],
  });
  const commitTimer = setInterval(() => commit().catch(fail), options.commitIntervalMs ?? 1000);
  const lagTimer = lag ? setInterval(() => void lag.sample(), options.lagSampleMs ?? 1000) : undefined;
  try {
    const loops = [
      runSource(),
      ...pipeline.nodes.filter((n) => n.stage).map(runStage),
      ...pipeline.nodes.filter((n) => n.sink).map(runSink),
      runSink(deadLetterNode),
    ];
    // The first failing loop fails the run (and stops the source); nothing unacknowledged gets committed.
    await Promise.all(loops.map((loop) => loop.catch((error) => Promise.reject(fail(error) ?? error))));
    if (failure !== undefined) throw failure;
    await commit();
  } finally {
    clearInterval(commitTimer);
    clearInterval(lagTimer);
    await lag?.settle();
    if (failure !== undefined) await Promise.allSettled(pipeline.closers.map(async (close) => close()));
  }
  await Promise.all(pipeline.nodes.filter((n) => n.sink).map((n) => n.sink!.close?.()));
  await deadLetterNode.sink!.close?.();
  await source.close();
  for (const close of pipeline.closers) await close();

  const snapshots = [...pipeline.nodes, deadLetterNode].map((n) => metrics.get(n)!.snapshot());
  const ended = Date.now();
  return {
    pipeline: pipeline.name,
    metrics: snapshots,
    deadLetters: snapshots.reduce((sum, s) => sum + s.deadLetters, 0),
    durationMs: ended - started,
    startedAt: started,
    endedAt: ended,
    recordsIn: metrics.get(sourceNode)!.recordsIn,
    firstReadAt,
    endToEnd: endToEnd.summary(),
    maxConsumerLag: lag?.max ?? null,
  };
}
