/**
 * The one windower: window assignment (tumbling, hopping, count) and the clocks that close windows, keyed by
 * record key, kept per source partition or over the whole stream, with event time per scope or per key.
 *
 * It runs inside a stateful logic (stateful.ts): every window a record enters holds the record's source batch,
 * and the windows it returns as closed are emitted by the logic with `closes`, which hands their batches on.
 * Results do not depend on batching: the clocks advance per record. A record whose every window has already
 * closed is returned as late (for the `late` side output).
 */
import type { TopicPartition } from './transport/transport.ts';
import type { StreamRecord } from './record.ts';
import type { StatefulContext, StatefulLogic } from './stateful.ts';
import { StreamWatermark } from './windower-watermark.ts';
import { type WindowClockOptions, type WindowResult, windowStarts } from './windower-spec.ts';

/** The side port of late records; the runner counts what goes there (StageMetrics.late). */
export const LATE_PORT = 'late';

/** One open window. The object itself is the state id its source batches are held under. */
export interface Window<A> {
  key: string | null;
  start: number;
  end: number;
  acc: A;
  count: number;
  minTime: number;
  maxTime: number;
  last: StreamRecord<unknown>;
}

/**
 * A closed window as a record: key, bounds (for count windows, the span of their records' event times, end
 * exclusive), count and `value`; event time its last instant, position that of its last record.
 */
export function windowRecord<R>(w: Window<unknown>, countBased: boolean, value: R): StreamRecord<WindowResult<R>> {
  const start = countBased ? w.minTime : w.start;
  const end = countBased ? w.maxTime + 1 : w.end;
  return {
    key: w.key,
    value: { key: w.key, start, end, count: w.count, value },
    eventTime: end - 1,
    headers: {},
    position: w.last.position,
  };
}

export interface WindowerOptions<T, A> extends WindowClockOptions {
  /**
   * Whether a window holds the batch of every record it takes (default true). False when the logic chooses which
   * records' batches a window holds (pseudo-label: only confident predictions'); it then holds `acc` itself.
   */
  holdBatches?: boolean;
  init: () => A;
  add: (acc: A, value: T, record: StreamRecord<T>) => A;
}

/** What a batch did: the windows it closed, in emission order, and its records that came too late for any window. */
export interface WindowerUpdate<T, A> {
  closed: Window<A>[];
  late: StreamRecord<T>[];
}

type Holder = Pick<StatefulContext<unknown>, 'hold' | 'deadLetter' | 'drop'>;

/** Open windows under one clock: a scope's, or (with event time per key) one key's. */
class WindowSet<A> {
  watermark = -Infinity;
  readonly open = new Map<string, Window<A>>();
  /** Smallest end among open time windows: no scan is needed until the clock passes it. */
  nextCloseAt = Infinity;
}

/** A partition's windows (or the stream's, id '*'): its clock and one window set, or one per key. */
class Scope<A> {
  watermark = -Infinity;
  lastArrival = 0;
  readonly sets = new Map<string | null | typeof ALL_KEYS, WindowSet<A>>();
  /** Per-key time: the smallest window end of any key, for the `maxKeyLagMs` bound. */
  nextBoundAt = Infinity;
}

const ALL_KEYS = Symbol('all keys');

const byEndThenKey = (a: Window<unknown>, b: Window<unknown>) =>
  a.end - b.end || a.start - b.start || String(a.key).localeCompare(String(b.key));

export class Windower<T, A> {
  private readonly scopes = new Map<string, Scope<A>>();
  private readonly lateness: number;
  private readonly streamScope: boolean;
  private readonly perKey: boolean;
  private readonly maxKeyLag: number;
  /** Stream scope: one clock over every partition, the slowest one's (windower-watermark.ts). */
  private readonly streamClock: StreamWatermark;

  constructor(private readonly options: WindowerOptions<T, A>) {
    this.lateness = options.allowedLatenessMs ?? 0;
    this.streamScope = options.scope === 'stream';
    this.perKey = options.eventTime === 'key';
    this.maxKeyLag = options.maxKeyLagMs ?? Infinity;
    this.streamClock = new StreamWatermark(this.lateness);
  }

  /** Adds records; each window a record enters holds the current batch through `ctx`. */
  add(records: readonly StreamRecord<T>[], ctx: Holder): WindowerUpdate<T, A> {
    const update: WindowerUpdate<T, A> = { closed: [], late: [] };
    const now = Date.now();
    for (const record of records) {
      const scope = this.scopeOf(record);
      scope.lastArrival = now;
      if (this.options.spec.type === 'count') this.addCounted(scope, record, ctx, update.closed);
      else if (!Number.isFinite(record.eventTime))
        ctx.deadLetter(record, new Error(`event time is not a finite number: ${record.eventTime}`));
      else if (!this.addTimed(scope, record, ctx)) update.late.push(record);
      else this.advanceClocks(scope, record, now, update.closed);
    }
    return { closed: this.ordered(update.closed), late: update.late };
  }

  /** Idle timeout (wall clock): closes the windows of scopes that received nothing for `idleTimeoutMs`. */
  closeIdle(now: number): Window<A>[] {
    const idle = this.options.idleTimeoutMs;
    if (idle === undefined) return [];
    const closed: Window<A>[] = [];
    if (this.streamScope) {
      // Quiet partitions stop holding the shared clock back; windows the others have passed close now.
      this.streamClock.forgetIdle(now, idle);
      const scope = this.scopes.get('*');
      if (scope) this.advanceScope(scope, this.streamClock.value, closed);
    }
    for (const scope of this.scopes.values()) {
      if (now - scope.lastArrival < idle) continue;
      for (const set of scope.sets.values()) {
        if (set.open.size === 0) continue;
        const before = closed.length;
        this.closeWhere(set, () => true, closed);
        // Later records for the windows just closed count as late, as if event time had moved past them.
        for (let i = before; i < closed.length; i++) if (closed[i]!.end > set.watermark) set.watermark = closed[i]!.end;
        if (this.streamScope) this.streamClock.advanceTo(set.watermark);
      }
    }
    return this.ordered(closed);
  }

  /** Stream scope: the clock that closes windows (−Infinity before the first record). */
  get streamWatermark(): number {
    if (!this.streamScope)
      throw new Error('streamWatermark: the windows are kept per partition, each with its own clock');
    return this.scopes.get('*')?.watermark ?? -Infinity;
  }

  /** The earliest end among open windows (Infinity when none is open). */
  earliestOpenEnd(): number {
    let earliest = Infinity;
    for (const scope of this.scopes.values())
      for (const set of scope.sets.values()) for (const w of set.open.values()) if (w.end < earliest) earliest = w.end;
    return earliest;
  }

  /** End of input: every open window closes. */
  closeAll(): Window<A>[] {
    const closed: Window<A>[] = [];
    for (const scope of this.scopes.values())
      for (const set of scope.sets.values()) this.closeWhere(set, () => true, closed);
    return this.ordered(closed);
  }

  /**
   * Drops revoked partitions' windows and what they held. A stream scope keeps its state: it also holds kept
   * partitions' records.
   */
  revoke(partitions: readonly TopicPartition[], ctx: Holder): void {
    if (this.streamScope) return;
    for (const p of partitions) {
      const id = `${p.topic}\u0000${p.partition}`;
      const scope = this.scopes.get(id);
      if (!scope) continue;
      for (const set of scope.sets.values()) for (const w of set.open.values()) ctx.drop(w);
      this.scopes.delete(id);
    }
  }

  private scopeOf(record: StreamRecord<unknown>): Scope<A> {
    const id = this.streamScope ? '*' : `${record.position.topic}\u0000${record.position.partition}`;
    let scope = this.scopes.get(id);
    if (!scope) {
      scope = new Scope<A>();
      this.scopes.set(id, scope);
    }
    return scope;
  }

  private setOf(scope: Scope<A>, key: string | null): WindowSet<A> {
    const id = this.perKey ? key : ALL_KEYS;
    let set = scope.sets.get(id);
    if (!set) {
      set = new WindowSet<A>();
      scope.sets.set(id, set);
    }
    return set;
  }

  private addCounted(scope: Scope<A>, record: StreamRecord<T>, ctx: Holder, closed: Window<A>[]): void {
    const set = this.setOf(scope, record.key);
    const w = this.contribute(scope, set, 0, Infinity, record, ctx);
    if (w.count < (this.options.spec as { count: number }).count) return;
    set.open.delete(`${w.key}\u0000${w.start}`);
    closed.push(w);
  }

  /** Adds the record to every window of its time not yet closed; false when there is none (the record is late). */
  private addTimed(scope: Scope<A>, record: StreamRecord<T>, ctx: Holder): boolean {
    const spec = this.options.spec as Exclude<WindowClockOptions['spec'], { type: 'count' }>;
    const set = this.setOf(scope, record.key);
    let accepted = false;
    for (const start of windowStarts(spec, record.eventTime)) {
      const end = start + spec.sizeMs;
      if (end <= set.watermark) continue; // that window has already been emitted
      this.contribute(scope, set, start, end, record, ctx);
      accepted = true;
    }
    return accepted;
  }

  /**
   * After an accepted record: the key's clock (per-key time) and the scope's clock move on; windows they pass close.
   */
  private advanceClocks(scope: Scope<A>, record: StreamRecord<T>, now: number, closed: Window<A>[]): void {
    const scopeTime = this.streamScope ? this.streamClock.observe(record, now) : record.eventTime - this.lateness;
    if (!this.perKey) {
      this.advanceScope(scope, scopeTime, closed);
      return;
    }
    this.advanceSet(this.setOf(scope, record.key), record.eventTime - this.lateness, closed);
    if (scopeTime > scope.watermark) {
      scope.watermark = scopeTime;
      this.closeLagging(scope, closed);
    }
  }

  /** The scope's clock moves to `time`: with one clock per scope, the windows it passes close. */
  private advanceScope(scope: Scope<A>, time: number, closed: Window<A>[]): void {
    if (time <= scope.watermark) return;
    scope.watermark = time;
    if (this.perKey) this.closeLagging(scope, closed);
    else this.advanceSet(this.setOf(scope, null), time, closed);
  }

  private advanceSet(set: WindowSet<A>, time: number, closed: Window<A>[]): void {
    if (time <= set.watermark) return;
    set.watermark = time;
    if (time >= set.nextCloseAt) this.closeWhere(set, (w) => w.end <= time, closed);
  }

  /** Per-key time: the scope's clock still bounds state; a key's windows close once it is `maxKeyLagMs` past them. */
  private closeLagging(scope: Scope<A>, closed: Window<A>[]): void {
    const limit = scope.watermark - this.maxKeyLag;
    if (limit < scope.nextBoundAt) return;
    let next = Infinity;
    for (const set of scope.sets.values()) {
      this.advanceSet(set, limit, closed);
      if (set.nextCloseAt < next) next = set.nextCloseAt;
    }
    scope.nextBoundAt = next;
  }

  private contribute(
    scope: Scope<A>,
    set: WindowSet<A>,
    start: number,
    end: number,
    record: StreamRecord<T>,
    ctx: Holder,
  ): Window<A> {
    const id = `${record.key}\u0000${start}`;
    let w = set.open.get(id);
    if (!w) {
      const t = record.eventTime;
      w = { key: record.key, start, end, acc: this.options.init(), count: 0, minTime: t, maxTime: t, last: record };
      set.open.set(id, w);
      if (end < set.nextCloseAt) set.nextCloseAt = end;
      if (end < scope.nextBoundAt) scope.nextBoundAt = end;
    }
    w.acc = this.options.add(w.acc, record.value, record);
    w.count += 1;
    w.last = record;
    if (record.eventTime < w.minTime) w.minTime = record.eventTime;
    if (record.eventTime > w.maxTime) w.maxTime = record.eventTime;
    if (this.options.holdBatches !== false) ctx.hold(w);
    return w;
  }

  private closeWhere(set: WindowSet<A>, shouldClose: (w: Window<A>) => boolean, closed: Window<A>[]): void {
    let nextCloseAt = Infinity;
    for (const [id, w] of set.open) {
      if (shouldClose(w)) {
        closed.push(w);
        set.open.delete(id);
      } else if (w.end < nextCloseAt) nextCloseAt = w.end;
    }
    set.nextCloseAt = nextCloseAt;
  }

  /** Count windows keep the order in which they filled; time windows go out by end time, then key. */
  private ordered(closed: Window<A>[]): Window<A>[] {
    if (this.options.spec.type !== 'count' && closed.length > 1) closed.sort(byEndThenKey);
    return closed;
  }
}

/**
 * The logic of a stage that is one windower: each batch added (after `prepare`, when given), closed windows to
 * `emitClosed`, late records to the late port; idle windows close on notify, every open one at end of input.
 */
export function windowerLogic<T, A, O>(
  windower: Windower<T, A>,
  emitClosed: (closed: Window<A>[], ctx: StatefulContext<O>) => void,
  prepare: (records: StreamRecord<T>[], ctx: StatefulContext<O>) => StreamRecord<T>[] = (records) => records,
): StatefulLogic<T, O> {
  return {
    onBatch(records, ctx) {
      const { closed, late } = windower.add(prepare(records, ctx), ctx);
      emitClosed(closed, ctx);
      if (late.length > 0) ctx.emitSide(LATE_PORT, late, { withBatch: true });
    },
    onNotify: (now, ctx) => emitClosed(windower.closeIdle(now), ctx),
    onEof: (ctx) => emitClosed(windower.closeAll(), ctx),
    onRevoke: (partitions, ctx) => windower.revoke(partitions, ctx),
  };
}
