import { type AckToken, releaseAll, retainAll } from './ack.ts';
import type { GraphNode } from './pipeline.ts';
import type { Item, RunGraph } from './run-graph.ts';
import { Collector } from './stage-collector.ts';
import type { Batch } from './stage.ts';

/**
 * One stage's loop: takes items from its queue until every parent has ended (or stopped), calls the stage, and
 * forwards what it emitted, waiting while downstream queues are full (that wait is the backpressure).
 */
export async function runStageLoop(node: GraphNode, graph: RunGraph): Promise<void> {
  const stage = node.stage!;
  const queue = graph.queueOf(node);
  let endsSeen = 0;
  for (;;) {
    const item = await queue.pop();
    if (item.kind === 'batch') await processBatch(node, graph, item.batch);
    else if (item.kind === 'tick') {
      const out = collectorOf(node, graph);
      stage.onTick?.(item.now, out);
      await deliver(node, graph, out, null);
      await graph.broadcast(node, item);
    } else if (item.kind === 'revoke') {
      stage.onRevoke?.(item.partitions);
      await graph.broadcast(node, item);
    } else {
      if (++endsSeen < node.parents) continue;
      await finish(node, graph, item);
      return;
    }
  }
}

async function processBatch(node: GraphNode, graph: RunGraph, batch: Batch<unknown>): Promise<void> {
  const m = graph.metricsOf(node);
  const out = collectorOf(node, graph);
  const t0 = performance.now();
  m.recordsIn += batch.records.length;
  m.batches += 1;
  const inputTokens = batch.tokens.slice();
  // Keep the input batch alive until its dead letters (if any) are queued.
  retainAll(inputTokens);
  await node.stage!.onBatch(batch, out);
  m.batchLatency.record(performance.now() - t0);
  await deliver(node, graph, out, inputTokens);
  releaseAll(inputTokens);
}

/** The last parent ended: at end of input the stage emits what it still holds (open windows); then pass it on. */
async function finish(node: GraphNode, graph: RunGraph, item: Extract<Item, { kind: 'end' | 'stop' }>): Promise<void> {
  if (item.kind === 'end') {
    const out = collectorOf(node, graph);
    await node.stage!.onEnd?.(out);
    await deliver(node, graph, out, null);
  }
  await graph.broadcast(node, item);
}

const collectorOf = (node: GraphNode, graph: RunGraph) => new Collector(node.name, graph.metricsOf(node));

/** Dead letters first (they hold the input batch's references), then every emitted batch, in order. */
async function deliver(node: GraphNode, graph: RunGraph, out: Collector, inputTokens: AckToken[] | null) {
  if (out.deadLetters.length > 0) await graph.queueDeadLetters(out.deadLetters, inputTokens ?? []);
  for (const { batch, port } of out.emitted) await graph.forward(node, port, batch);
}
