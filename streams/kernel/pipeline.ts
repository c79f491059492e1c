import { branch, branchPort } from './operators/basic/branch.ts';
import { assignEventTime } from './operators/basic/event-time.ts';
import { filter } from './operators/basic/filter.ts';
import { flatMap } from './operators/basic/flat-map.ts';
import { keyBy } from './operators/basic/key-by.ts';
import { map } from './operators/basic/map.ts';
import { mapBatch } from './operators/basic/map-batch.ts';
import { LATE_PORT, windowStage } from './operators/window/window.ts';
import type { WindowOptions, WindowResult } from './operators/window/window-spec.ts';
import type { DeadLetter, StreamRecord } from './record.ts';
import type { Sink } from './sink.ts';
import type { Source } from './source.ts';
import { MAIN, type Port, type Stage } from './stage.ts';

/** A node of the dataflow graph: one source, stage or sink, with its downstream nodes per output port. */
export interface GraphNode {
  readonly id: number;
  readonly name: string;
  readonly source?: Source<unknown>;
  readonly stage?: Stage<unknown, unknown>;
  readonly sink?: Sink<unknown>;
  readonly children: Map<Port, GraphNode[]>;
  parents: number;
}

/**
 * A pipeline definition: `source → operator → … → sink`, built with the typed `Stream` methods. The same
 * definition runs on any transport; `runPipeline` executes it.
 */
export class Pipeline {
  readonly nodes: GraphNode[] = [];
  deadLetterSink?: Sink<DeadLetter>;
  /** Resources the pipeline's stages hold (inference threads, a trainer): released after the run, in order. */
  readonly closers: Array<() => Promise<void> | void> = [];
  /** Work to finish before the first record is read (loading what stages need), in order. */
  readonly starters: Array<() => Promise<void> | void> = [];

  constructor(readonly name: string) {}

  from<T>(source: Source<T>): Stream<T> {
    if (this.nodes.some((n) => n.source)) throw new Error(`pipeline ${this.name} already has a source`);
    return new Stream<T>(this, this.addNode({ name: source.name, source: source as Source<unknown> }), MAIN);
  }

  /** Runs before the source reads its first record; a failure fails the run. */
  onStart(start: () => Promise<void> | void): this {
    this.starters.push(start);
    return this;
  }

  /** Releases a resource once the run ends (after sinks are flushed and closed), whether it succeeded or failed. */
  onClose(close: () => Promise<void> | void): this {
    this.closers.push(close);
    return this;
  }

  /** Where records that fail to parse, validate or process go (with reason, original bytes and position). */
  deadLetters(sink: Sink<DeadLetter>): this {
    this.deadLetterSink = sink;
    return this;
  }

  addNode(parts: Omit<GraphNode, 'id' | 'children' | 'parents'>): GraphNode {
    if (this.nodes.some((n) => n.name === parts.name))
      throw new Error(`pipeline ${this.name}: two stages are named "${parts.name}"`);
    const node: GraphNode = { id: this.nodes.length, children: new Map(), parents: 0, ...parts };
    this.nodes.push(node);
    return node;
  }
}

/** A typed stream of records at one output port of a node. */
export class Stream<T> {
  constructor(
    readonly pipeline: Pipeline,
    readonly node: GraphNode,
    readonly port: Port,
  ) {}

  /** Attach any stage (the extension point every operator uses). */
  through<O>(stage: Stage<T, O>): Stream<O> {
    const node = this.pipeline.addNode({ name: stage.name, stage: stage as Stage<unknown, unknown> });
    this.connect(node);
    return new Stream<O>(this.pipeline, node, MAIN);
  }

  map<O>(name: string, fn: (value: T, record: StreamRecord<T>) => O): Stream<O> {
    return this.through(map(name, fn));
  }

  filter(name: string, keep: (value: T, record: StreamRecord<T>) => boolean): Stream<T> {
    return this.through(filter(name, keep));
  }

  flatMap<O>(name: string, fn: (value: T, record: StreamRecord<T>) => Iterable<O>): Stream<O> {
    return this.through(flatMap(name, fn));
  }

  keyBy(name: string, keyOf: (value: T, record: StreamRecord<T>) => string): Stream<T> {
    return this.through(keyBy(name, keyOf));
  }

  eventTime(name: string, timeOf: (value: T, record: StreamRecord<T>) => number): Stream<T> {
    return this.through(assignEventTime(name, timeOf));
  }

  mapBatch<O>(
    name: string,
    fn: (records: StreamRecord<T>[]) => StreamRecord<O>[] | Promise<StreamRecord<O>[]>,
  ): Stream<O> {
    return this.through(mapBatch(name, fn));
  }

  /** One stream per predicate (first match wins), plus a last one for records that matched none. */
  branch(name: string, ...predicates: Array<(value: T, record: StreamRecord<T>) => boolean>): Stream<T>[] {
    const node = this.through(branch(name, predicates)).node;
    return Array.from({ length: predicates.length + 1 }, (_, i) => new Stream<T>(this.pipeline, node, branchPort(i)));
  }

  /** Keyed event-time or count windows; `.late` carries records that arrived after all their windows closed. */
  window<A, R = A>(name: string, options: WindowOptions<T, A, R>): Stream<WindowResult<R>> & { late: Stream<T> } {
    const windowed = this.through(windowStage(name, options));
    return Object.assign(windowed, { late: new Stream<T>(this.pipeline, windowed.node, LATE_PORT) });
  }

  /**
   * One stream carrying the records of this stream and `other` (same pipeline), so one stage can see both, e.g.
   * `predictions.merge('with-labels', labels)`. Batches keep their order within each input; across the two they
   * interleave as they arrive. The merge node has two parents: it ends once both have ended.
   */
  merge<U>(name: string, other: Stream<U>): Stream<T | U> {
    if (other.pipeline !== this.pipeline)
      throw new Error(`merge "${name}": both streams must belong to pipeline ${this.pipeline.name}`);
    const node = this.pipeline.addNode({ name, stage: passThrough(name) });
    this.connect(node);
    other.connect(node);
    return new Stream<T | U>(this.pipeline, node, MAIN);
  }

  to(sink: Sink<T>): void {
    const node = this.pipeline.addNode({ name: sink.name, sink: sink as Sink<unknown> });
    this.connect(node);
  }

  private connect(child: GraphNode): void {
    const list = this.node.children.get(this.port) ?? [];
    list.push(child);
    this.node.children.set(this.port, list);
    child.parents += 1;
  }
}

/** Hands every batch on unchanged (with its acknowledgement references): the node a merge joins at. */
function passThrough(name: string): Stage<unknown, unknown> {
  return {
    name,
    onBatch(batch, out) {
      out.emit(batch);
    },
  };
}
