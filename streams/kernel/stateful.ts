/**
 * The one way a stateful operator is written: plain logic over batches of records, while the engine keeps the
 * acknowledgement books (in the spirit of bytewax's `StatefulBatchLogic`: on_batch, on_notify, on_eof, snapshot).
 *
 * The logic names pieces of its state (a window, a held item: any object or value, compared as a Map key) and says
 * two things about them: "this state now depends on the current batch" (`hold`) and "these records close that
 * state" (`emit` with `closes`). The engine keeps the source batches a state depends on uncommitted until the state
 * is emitted (their acknowledgement then travels with the output) or dropped, and releases each input batch's own
 * reference once the logic has seen it. The logic never sees a token, so it cannot lose or double a commit.
 */
import type { TopicPartition } from './transport/transport.ts';
import type { AckToken } from './ack.ts';
import type { StreamRecord } from './record.ts';
import type { Batch, Port, Stage, StageOutput } from './stage.ts';

/** Anything naming a piece of operator state: compared by identity (a Map key). */
export type StateId = unknown;

/** Which source batch something came from, for outputs that stand for only some of a state's batches. Opaque. */
export interface BatchRef {
  readonly batchRef: true;
}

export interface EmitOptions {
  /** Output port of `emit` (default main); side ports with records of another type go through `emitSide`. */
  port?: Port;
  /**
   * States these records complete. They are released after the emission; unless `only` is given, the batches
   * they held travel with the records (committed once the records are acknowledged downstream).
   */
  closes?: Iterable<StateId>;
  /** The records also stand for the current batch (e.g. its late records, or updates its records caused). */
  withBatch?: boolean;
  /**
   * The records stand for just these batches (held by the closing states or the current batch); the others are
   * acknowledged now.
   */
  only?: Iterable<BatchRef>;
}

/** What the logic may do while it handles a batch, a notification or the end of input. */
export interface StatefulContext<O> {
  /** State `id` now depends on the current batch: its offsets stay uncommitted until `id` is emitted or released. */
  hold(id: StateId): void;
  /** The current batch, to remember where an item came from (see `EmitOptions.only`). */
  batch(): BatchRef;
  /**
   * Emit records. An emission with no records is dropped (what it would have carried is released), unless it
   * carries the current batch (`withBatch`): then it goes on empty, keeping downstream batch-aligned (branch).
   */
  emit(records: StreamRecord<O>[], options?: EmitOptions): void;
  /** Emit on a side port whose records have another type (e.g. late records). */
  emitSide(port: Port, records: StreamRecord<unknown>[], options?: EmitOptions): void;
  /**
   * Forget state `id` without emitting anything (revoked, or discarded with nothing to say): its batches are
   * acknowledged.
   */
  drop(id: StateId): void;
  deadLetter(record: StreamRecord<unknown>, error: unknown): void;
}

export interface StatefulLogic<I, O> {
  /** A batch of input records. Whatever the logic did not `hold` is acknowledged once it returns. */
  onBatch(records: StreamRecord<I>[], ctx: StatefulContext<O>): void | Promise<void>;
  /** Wall-clock notification (about every tick), for idle timeouts. There is no current batch. */
  onNotify?(now: number, ctx: StatefulContext<O>): void;
  /** End of input: emit what is still held. There is no current batch. */
  onEof?(ctx: StatefulContext<O>): void | Promise<void>;
  /** Partitions taken away: `drop` the state that only they fed. */
  onRevoke?(partitions: readonly TopicPartition[], ctx: StatefulContext<O>): void;
  /** The state worth showing or saving (counters, sizes); optional. */
  snapshot?(): unknown;
}

/** The source batches one piece of state depends on, each held (retained) once. */
interface Held {
  tokens: AckToken[];
  seen: Set<AckToken>;
  /** The last batch that called `hold`, so a batch of many records costs one set lookup per token, not per record. */
  lastBatch: number;
}

const refTokens = new WeakMap<BatchRef, readonly AckToken[]>();

export interface StatefulStage<I, O> extends Stage<I, O> {
  snapshot(): unknown;
}

/** A Stage running `logic`, with the acknowledgements of held state kept by the engine. */
export function statefulStage<I, O>(name: string, logic: StatefulLogic<I, O>): StatefulStage<I, O> {
  const holds = new Map<StateId, Held>();
  let batchNumber = 0;

  /** `current`: the batch's number, 0 outside a batch. */
  const contextFor = (tokens: readonly AckToken[], out: StageOutput<O>, current = 0): StatefulContext<O> => {
    let ref: BatchRef | undefined;
    const send = (records: StreamRecord<unknown>[], options: EmitOptions, forward: (batch: Batch<unknown>) => void) => {
      const closing = options.closes ? [...options.closes] : [];
      const acks = options.only ? retainOnce(options.only) : takeHeld(holds, closing);
      if (options.withBatch) for (const t of tokens) acks.push(retained(t));
      if (records.length > 0 || options.withBatch) forward({ records, tokens: acks });
      else for (const t of acks) t.release();
      if (options.only) for (const id of closing) releaseHeld(holds, id);
    };
    return {
      hold(id) {
        if (current === 0) throw new Error(`${name}: hold() outside a batch: there is nothing to hold`);
        let held = holds.get(id);
        if (!held) {
          held = { tokens: [], seen: new Set(), lastBatch: 0 };
          holds.set(id, held);
        }
        if (held.lastBatch === current) return;
        held.lastBatch = current;
        for (const t of tokens) {
          if (held.seen.has(t)) continue;
          held.seen.add(t);
          held.tokens.push(retained(t));
        }
      },
      batch() {
        if (!ref) {
          ref = { batchRef: true };
          refTokens.set(ref, tokens.slice());
        }
        return ref;
      },
      emit: (records, options = {}) => send(records, options, (b) => out.emit(b as Batch<O>, options.port)),
      emitSide: (port, records, options = {}) => send(records, options, (b) => out.emitSide(port, b)),
      drop: (id) => releaseHeld(holds, id),
      deadLetter: (record, error) => out.deadLetter(record, error),
    };
  };

  const noBatch: AckToken[] = [];
  return {
    name,
    onBatch(batch, out) {
      batchNumber++;
      const done = () => {
        for (const t of batch.tokens) t.release();
      };
      const pending = logic.onBatch(batch.records, contextFor(batch.tokens, out, batchNumber));
      if (pending instanceof Promise) return pending.then(done);
      done();
    },
    onTick: logic.onNotify && ((now, out) => logic.onNotify!(now, contextFor(noBatch, out))),
    onEnd: logic.onEof && ((out) => logic.onEof!(contextFor(noBatch, out))),
    onRevoke: logic.onRevoke && ((partitions) => logic.onRevoke!(partitions, contextFor(noBatch, revokedOutput(name)))),
    snapshot: () => logic.snapshot?.(),
  };
}

function retained(t: AckToken): AckToken {
  t.retain();
  return t;
}

/** One new reference to each distinct batch behind `refs`. */
function retainOnce(refs: Iterable<BatchRef>): AckToken[] {
  const distinct = new Set<AckToken>();
  for (const ref of refs) for (const t of refTokens.get(ref) ?? []) distinct.add(t);
  return [...distinct].map(retained);
}

/** Moves the references the closing states hold into one list (one element per reference), forgetting the states. */
function takeHeld(holds: Map<StateId, Held>, closing: readonly StateId[]): AckToken[] {
  const tokens: AckToken[] = [];
  for (const id of closing) {
    const held = holds.get(id);
    if (!held) continue;
    holds.delete(id);
    for (const t of held.tokens) tokens.push(t);
  }
  return tokens;
}

function releaseHeld(holds: Map<StateId, Held>, id: StateId): void {
  const held = holds.get(id);
  if (!held) return;
  holds.delete(id);
  for (const t of held.tokens) t.release();
}

/** After a revoke nothing may be emitted: the partitions' records belong to their new owner. */
function revokedOutput<O>(name: string): StageOutput<O> {
  const refuse = () => {
    throw new Error(`${name}: nothing can be emitted while partitions are revoked`);
  };
  return { emit: refuse, emitSide: refuse, deadLetter: refuse };
}
