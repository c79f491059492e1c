import { type AckToken, releaseAll } from './ack.ts';
import type { StageMetrics } from './metrics.ts';
import type { GraphNode } from './pipeline.ts';
import type { DeadLetter, StreamRecord } from './record.ts';
import type { RunGraph } from './run-graph.ts';
import { DEFAULT_SINK_MAX_WAIT_MS, type RejectRecord, type Sink } from './sink.ts';
import { deadLetterOf } from './stage-collector.ts';
import type { Batch } from './stage.ts';

/**
 * One sink's loop. Records accumulate until the sink's `batchRecords` are there or its `maxWaitMs` has passed since
 * the oldest of them arrived, whichever comes first: the flush timer is the sink's own, so it fires however full or
 * quiet the queues upstream are. At the end every parent has ended: what is left is written and waited for.
 */
export async function runSinkLoop(node: GraphNode, graph: RunGraph): Promise<void> {
  const buffer = new SinkBuffer(node, graph);
  const queue = graph.queueOf(node);
  let endsSeen = 0;
  for (;;) {
    const item = await queue.popWithin(buffer.msUntilDue());
    if (item === undefined)
      await buffer.flush(); // the flush timer: nothing more arrived in time
    else if (item.kind === 'batch') await buffer.add(item.batch);
    else if (item.kind === 'end' || item.kind === 'stop') {
      if (++endsSeen < node.parents) continue;
      await buffer.drain();
      // Only now can this sink reject nothing more: the dead-letter sink waits for this before it ends.
      if (node !== graph.deadLetterNode) await graph.queueOf(graph.deadLetterNode).push(item);
      return;
    }
  }
}

/** A sink's unwritten records and its writes in flight; acknowledges a batch's references once its write resolved. */
class SinkBuffer {
  private records: StreamRecord<unknown>[] = [];
  private tokens: AckToken[] = [];
  private oldestAt = 0;
  private readonly inFlight: Promise<void>[] = [];
  private readonly sink: Sink<unknown>;
  private readonly metrics: StageMetrics;
  private readonly target: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly node: GraphNode,
    private readonly graph: RunGraph,
  ) {
    this.sink = node.sink!;
    this.metrics = graph.metricsOf(node);
    this.target = this.sink.batchRecords ?? 1;
    this.maxWaitMs = this.sink.maxWaitMs ?? DEFAULT_SINK_MAX_WAIT_MS;
  }

  /** Milliseconds until the oldest held record is due; Infinity when none is held. */
  msUntilDue(): number {
    if (this.records.length === 0) return Number.POSITIVE_INFINITY;
    return Math.ceil(this.oldestAt + this.maxWaitMs - performance.now());
  }

  async add(batch: Batch<unknown>): Promise<void> {
    if (this.records.length === 0) this.oldestAt = performance.now();
    this.metrics.recordsIn += batch.records.length;
    for (const r of batch.records) this.records.push(r);
    for (const t of batch.tokens) this.tokens.push(t);
    // Due already: batches kept arriving while the queue never ran empty, so the timer had no chance to fire.
    if (this.records.length >= this.target || this.msUntilDue() <= 0) await this.flush();
  }

  /** Starts writing what is held; waits only while the sink's `concurrency` writes are already in flight. */
  async flush(): Promise<void> {
    const records = this.records;
    const tokens = this.tokens;
    this.records = [];
    this.tokens = [];
    if (records.length === 0) {
      releaseAll(tokens);
      return;
    }
    const write = this.write(records, tokens);
    write.catch(() => {}); // surfaced when awaited below or in drain(); avoids an unhandled rejection meanwhile
    this.inFlight.push(write);
    if (this.inFlight.length >= (this.sink.concurrency ?? 1)) await this.inFlight.shift();
  }

  async drain(): Promise<void> {
    await this.flush();
    while (this.inFlight.length > 0) await this.inFlight.shift();
  }

  private async write(records: StreamRecord<unknown>[], tokens: AckToken[]): Promise<void> {
    const t0 = performance.now();
    // Records the sink refuses become dead letters; the dead-letter sink itself has no one to hand them to.
    const rejected: DeadLetter[] = [];
    const reject: RejectRecord | undefined =
      this.node === this.graph.deadLetterNode
        ? undefined
        : (record, reason) => {
            this.metrics.countDeadLetter(reason);
            rejected.push(deadLetterOf(this.sink.name, record, reason));
          };
    await this.sink.write(records, reject);
    if (rejected.length > 0) await this.graph.queueDeadLetters(rejected, tokens);
    if (this.graph.isRecordSink(this.node)) {
      const now = Date.now();
      for (const t of tokens) t.recordSinkAckAt = now;
    }
    this.metrics.batchLatency.record(performance.now() - t0);
    this.metrics.batches += 1;
    this.metrics.recordsOut += records.length - rejected.length;
    releaseAll(tokens);
  }
}
