import type { PartitionLag } from './consumer-lag.ts';
import type { LatencyHistogram, StageMetrics } from './metrics.ts';
import type { GraphNode } from './pipeline.ts';

/** What a node of the graph is, for readers of live metrics. */
export type NodeKind = 'source' | 'stage' | 'sink';

export const nodeKind = (node: GraphNode): NodeKind => (node.source ? 'source' : node.stage ? 'stage' : 'sink');

/**
 * The live figures of a running pipeline, handed out once when the run starts. Readers (a metrics exporter) read
 * them when asked, e.g. on each scrape; the runtime never pushes anything, so reading costs nothing in between.
 */
export interface LiveRun {
  readonly pipeline: string;
  /** Every node with its counters, batch latency and queue depth; the dead-letter sink last. */
  readonly nodes: ReadonlyArray<{ readonly kind: NodeKind; readonly metrics: StageMetrics }>;
  /** End-to-end latency so far (end-to-end-latency.ts). */
  readonly endToEnd: LatencyHistogram;
  /** Lag of each partition read, from the last sample; empty when lag is not measured or not sampled yet. */
  consumerLag(): readonly PartitionLag[];
}
