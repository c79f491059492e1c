import type { TopicPartition } from './transport/transport.ts';
import type { CommitTracker } from './ack.ts';
import type { ConsumerLag } from './consumer-lag.ts';
import { type LatencyStart, startTimes } from './end-to-end-latency.ts';
import type { RunGraph } from './run-graph.ts';
import type { SourceBatch } from './source.ts';
import { MAIN } from './stage.ts';

export interface SourceLoopOptions {
  pollWaitMs: number;
  /** How often stages get a wall-clock tick (idle timeouts); ticks are advisory. */
  tickMs: number;
  latencyStart: LatencyStart;
  untilIdle?: boolean;
  inputComplete?: AbortSignal;
  signal?: AbortSignal;
  /** Work to finish before the first poll (pipeline starters). */
  starters: ReadonlyArray<() => Promise<void> | void>;
  /** True once any part of the run failed: the source stops reading. */
  failed: () => boolean;
}

/**
 * The source's loop: polls, gives each source batch an acknowledgement token, forwards it (waiting while the first
 * queue is full), passes rebalances and ticks downstream, and at the end sends `end` (input exhausted) or `stop`.
 */
export class SourceLoop {
  /** When the first record was read; null until one was. */
  firstReadAt: number | null = null;
  private readonly pendingRevokes: TopicPartition[][] = [];

  constructor(
    private readonly graph: RunGraph,
    private readonly tracker: CommitTracker,
    private readonly lag: ConsumerLag | undefined,
    private readonly options: SourceLoopOptions,
  ) {
    graph.source.onRevoked((partitions) => {
      tracker.revoke(partitions);
      this.pendingRevokes.push(partitions);
    });
  }

  async run(): Promise<void> {
    const { graph, options } = this;
    let lastTick = Date.now();
    let ending: 'end' | 'stop' = 'stop';
    for (const start of options.starters) await start();
    while (!options.signal?.aborted && !options.failed()) {
      const batches = await graph.source.poll(options.pollWaitMs);
      const readAt = Date.now();
      for (let p = this.pendingRevokes.shift(); p; p = this.pendingRevokes.shift()) {
        await graph.broadcast(graph.sourceNode, { kind: 'revoke', partitions: p });
      }
      for (const b of batches) await this.forward(b, readAt);
      if (this.firstReadAt === null && batches.length > 0) {
        this.firstReadAt = readAt;
        void this.lag?.sample(); // the backlog a run starts with is usually its largest lag
      }
      const now = Date.now();
      if (now - lastTick >= options.tickMs) {
        lastTick = now;
        await graph.broadcast(graph.sourceNode, { kind: 'tick', now });
      }
      const mayEnd = options.untilIdle || options.inputComplete?.aborted;
      if (mayEnd && batches.length === 0 && (await graph.source.caughtUp())) {
        ending = 'end';
        break;
      }
    }
    await graph.broadcast(graph.sourceNode, { kind: ending });
  }

  private async forward(b: SourceBatch<unknown>, readAt: number): Promise<void> {
    if (b.records.length === 0) return;
    const starts = startTimes(b.records, readAt, this.options.latencyStart);
    const token = this.tracker.track(b.topic, b.partition, b.nextOffset, b.records.length, starts);
    this.lag?.read(b.topic, b.partition, b.nextOffset);
    const m = this.graph.metricsOf(this.graph.sourceNode);
    m.recordsIn += b.records.length;
    m.batches += 1;
    await this.graph.forward(this.graph.sourceNode, MAIN, { records: b.records, tokens: [token] });
  }
}
