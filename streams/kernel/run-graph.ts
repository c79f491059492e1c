import type { TopicPartition } from './transport/transport.ts';
import { type AckToken, releaseAll, retainAll } from './ack.ts';
import { BoundedQueue } from './bounded-queue.ts';
import { StageMetrics } from './metrics.ts';
import type { GraphNode, Pipeline } from './pipeline.ts';
import type { DeadLetter } from './record.ts';
import type { Sink } from './sink.ts';
import type { Source } from './source.ts';
import type { Batch, Port } from './stage.ts';

/** What travels between the loops of a run: batches, and the control messages that follow them downstream. */
export type Item =
  | { kind: 'batch'; batch: Batch<unknown> }
  | { kind: 'tick'; now: number }
  | { kind: 'revoke'; partitions: TopicPartition[] }
  | { kind: 'end' }
  | { kind: 'stop' };

const DEAD_LETTERS = '__dead_letters__';

/** Writes dead letters to stderr when a pipeline has no dead-letter sink, so none vanish silently. */
const stderrDeadLetters: Sink<DeadLetter> = {
  name: 'dead-letters-stderr',
  async write(records) {
    for (const r of records) {
      const d = r.value;
      const at = `${d.position.topic}/${d.position.partition}@${d.position.offset}`;
      process.stderr.write(`dead letter from ${d.stage} at ${at}: ${d.error}\n`);
    }
  },
};

/**
 * A pipeline's graph as it runs: a bounded queue and metrics per node (plus the dead-letter sink every stage and
 * sink feeds), and how batches and control messages move along its edges, acknowledgement references included.
 */
export class RunGraph {
  /** The pipeline's name. */
  readonly name: string;
  readonly source: Source<unknown>;
  readonly sourceNode: GraphNode;
  readonly deadLetterNode: GraphNode;
  /** Every node, the dead-letter sink last. */
  readonly nodes: GraphNode[];
  private readonly queues = new Map<GraphNode, BoundedQueue<Item>>();
  private readonly metrics = new Map<GraphNode, StageMetrics>();
  private readonly recordSinks: Set<GraphNode>;

  constructor(pipeline: Pipeline, capacity: number) {
    const sourceNode = pipeline.nodes.find((n) => n.source);
    if (!sourceNode?.source) throw new Error(`pipeline ${pipeline.name} has no source`);
    for (const n of pipeline.nodes) {
      if (n.stage && n.children.size === 0) {
        throw new Error(`pipeline ${pipeline.name}: stage "${n.name}" leads nowhere; end it with .to(sink)`);
      }
    }
    this.name = pipeline.name;
    this.sourceNode = sourceNode;
    this.source = sourceNode.source;
    // Every stage may dead-letter, and every sink may reject records, so the dead-letter sink hears from all of them.
    this.deadLetterNode = {
      id: -1,
      name: DEAD_LETTERS,
      sink: (pipeline.deadLetterSink ?? stderrDeadLetters) as Sink<unknown>,
      children: new Map(),
      parents: pipeline.nodes.filter((n) => n.stage || n.sink).length,
    };
    this.nodes = [...pipeline.nodes, this.deadLetterNode];
    for (const n of this.nodes) this.addNode(n, n === this.deadLetterNode ? capacity * 4 : capacity);
    this.recordSinks = sinksNotBehindWindows(sourceNode);
  }

  private addNode(node: GraphNode, capacity: number): void {
    const m = new StageMetrics(node === this.deadLetterNode ? node.sink!.name : node.name);
    this.metrics.set(node, m);
    if (node.source) return;
    const q = new BoundedQueue<Item>(capacity);
    this.queues.set(node, q);
    m.queueDepth = () => q.depth;
    m.maxQueueDepth = () => q.maxDepth;
  }

  queueOf(node: GraphNode): BoundedQueue<Item> {
    return this.queues.get(node)!;
  }

  metricsOf(node: GraphNode): StageMetrics {
    return this.metrics.get(node)!;
  }

  /** Where a record's own rows land (not behind a window), so where its end-to-end latency ends. */
  isRecordSink(node: GraphNode): boolean {
    return node === this.deadLetterNode || this.recordSinks.has(node);
  }

  /** Hands a batch to every child on `port`, each child holding its own references; waits while a queue is full. */
  async forward(node: GraphNode, port: Port, batch: Batch<unknown>): Promise<void> {
    const children = node.children.get(port) ?? [];
    if (children.length === 0 || batch.records.length === 0) {
      // Nothing to deliver, or no one to deliver to (a filter dropped everything, say): the batch is done here.
      releaseAll(batch.tokens);
      return;
    }
    this.metricsOf(node).recordsOut += batch.records.length;
    retainAll(batch.tokens, children.length - 1);
    const { records, tokens } = batch;
    // Each child gets its own array of the references it holds.
    for (const child of children) {
      await this.queueOf(child).push({ kind: 'batch', batch: { records, tokens: tokens.slice() } });
    }
  }

  /**
   * Sends a control message to every child (and, from a stage, to the dead-letter sink). Ticks are advisory and only
   * stages use them (sinks keep their own flush timers): never waited for. Revocations never wait either.
   */
  async broadcast(node: GraphNode, item: Exclude<Item, { kind: 'batch' }>): Promise<void> {
    const targets = [...node.children.values()].flat();
    if (node.stage) targets.push(this.deadLetterNode);
    for (const child of targets) {
      const q = this.queueOf(child);
      if (item.kind === 'tick') {
        if (child.stage && q.hasRoom) q.pushNow(item);
      } else if (item.kind === 'revoke') q.pushNow(item);
      else await q.push(item);
    }
  }

  /** Dead letters hold the offsets of the batch they came from until the dead-letter sink has them too. */
  async queueDeadLetters(letters: DeadLetter[], tokens: AckToken[]): Promise<void> {
    retainAll(tokens);
    const records = letters.map((d) => {
      return { key: d.key, value: d, eventTime: d.eventTime, headers: {}, position: d.position };
    });
    await this.queueOf(this.deadLetterNode).push({ kind: 'batch', batch: { records, tokens: tokens.slice() } });
  }
}

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
