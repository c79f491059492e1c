import type { TopicPartition } from '../../connectors/transport.ts';
import { type AckToken, releaseAll, retainAll } from '../../streams/ack.ts';
import type { StreamRecord } from '../../streams/record.ts';
import type { Batch, Stage, StageOutput } from '../../streams/stage.ts';
import { StreamWatermark } from './stream-watermark.ts';
import { type WindowOptions, type WindowResult, windowStarts } from './window-spec.ts';

export const LATE_PORT = 'late';

interface OpenWindow<A> {
  key: string | null;
  start: number;
  end: number;
  acc: A;
  count: number;
  minTime: number;
  maxTime: number;
  last: StreamRecord<unknown>;
  /** References to every source batch that contributed, so their offsets stay uncommitted until emission. */
  tokens: AckToken[];
  tokenSet: Set<AckToken>;
}

/** Window state of one source partition: keyed windows plus the partition's own event-time clock. */
class PartitionWindows<A> {
  watermark = -Infinity;
  lastArrival = 0;
  readonly open = new Map<string, OpenWindow<A>>();
  /** Smallest end among open time windows: no scan is needed until the watermark passes it. */
  nextCloseAt = Infinity;
}

const byEndThenKey = (a: OpenWindow<unknown>, b: OpenWindow<unknown>) =>
  a.end - b.end || a.start - b.start || String(a.key).localeCompare(String(b.key));

/**
 * Event-time tumbling/hopping windows and count windows, keyed by record key, with state kept per source
 * partition. The watermark advances per record, so results do not depend on how records were batched.
 * A record whose every window has already closed goes to the `late` port instead.
 */
export function windowStage<T, A, R = A>(name: string, options: WindowOptions<T, A, R>): Stage<T, WindowResult<R>> {
  const { spec, init, add } = options;
  const lateness = options.allowedLatenessMs ?? 0;
  const result = options.result ?? ((acc: A) => acc as unknown as R);
  const partitions = new Map<string, PartitionWindows<A>>();

  const streamScope = options.scope === 'stream';
  /** Stream scope: one set of windows, closed by the slowest partition's clock (see stream-watermark.ts). */
  const streamClock = new StreamWatermark(lateness);
  const partitionOf = (record: StreamRecord<unknown>) => {
    const id = streamScope ? '*' : `${record.position.topic}\u0000${record.position.partition}`;
    let state = partitions.get(id);
    if (!state) partitions.set(id, (state = new PartitionWindows<A>()));
    return state;
  };

  const contribute = (state: PartitionWindows<A>, key: string | null, start: number, end: number, record: StreamRecord<T>, tokens: AckToken[]) => {
    const id = `${key}\u0000${start}`;
    let w = state.open.get(id);
    if (!w) {
      w = { key, start, end, acc: init(), count: 0, minTime: record.eventTime, maxTime: record.eventTime, last: record, tokens: [], tokenSet: new Set() };
      state.open.set(id, w);
      if (end < state.nextCloseAt) state.nextCloseAt = end;
    }
    w.acc = add(w.acc, record.value, record);
    w.count += 1;
    w.last = record;
    if (record.eventTime < w.minTime) w.minTime = record.eventTime;
    if (record.eventTime > w.maxTime) w.maxTime = record.eventTime;
    for (const token of tokens) {
      if (!w.tokenSet.has(token)) {
        w.tokenSet.add(token);
        token.retain();
        w.tokens.push(token);
      }
    }
    return w;
  };

  const toRecord = (w: OpenWindow<A>): StreamRecord<WindowResult<R>> => {
    const countBased = spec.type === 'count';
    const start = countBased ? w.minTime : w.start;
    const end = countBased ? w.maxTime + 1 : w.end;
    return {
      key: w.key,
      value: { key: w.key, start, end, count: w.count, value: result(w.acc) },
      eventTime: end - 1,
      headers: {},
      position: w.last.position,
    };
  };

  const closeWhere = (state: PartitionWindows<A>, shouldClose: (w: OpenWindow<A>) => boolean, closed: OpenWindow<A>[]) => {
    let nextCloseAt = Infinity;
    for (const [id, w] of state.open) {
      if (shouldClose(w)) {
        closed.push(w);
        state.open.delete(id);
      } else if (w.end < nextCloseAt) nextCloseAt = w.end;
    }
    state.nextCloseAt = nextCloseAt;
  };

  const emitClosed = (closed: OpenWindow<A>[], out: StageOutput<WindowResult<R>>) => {
    if (closed.length === 0) return;
    // Count windows keep the order in which they filled; time windows go out by end time, then key.
    if (spec.type !== 'count') closed.sort(byEndThenKey);
    const tokens: AckToken[] = [];
    for (const w of closed) for (const t of w.tokens) tokens.push(t);
    out.emit({ records: closed.map(toRecord), tokens });
  };

  return {
    name,
    onBatch(batch: Batch<T>, out) {
      const closed: OpenWindow<A>[] = [];
      const late: StreamRecord<T>[] = [];
      const now = Date.now();
      for (const record of batch.records) {
        const state = partitionOf(record);
        state.lastArrival = now;
        if (spec.type === 'count') {
          const w = contribute(state, record.key, 0, Infinity, record, batch.tokens);
          if (w.count >= spec.count) closeWhere(state, (x) => x === w, closed);
          continue;
        }
        const t = record.eventTime;
        if (!Number.isFinite(t)) {
          out.deadLetter(record, new Error(`event time is not a finite number: ${t}`));
          continue;
        }
        let accepted = false;
        for (const start of windowStarts(spec, t)) {
          const end = start + spec.sizeMs;
          if (end <= state.watermark) continue; // that window has already been emitted
          contribute(state, record.key, start, end, record, batch.tokens);
          accepted = true;
        }
        if (!accepted) {
          late.push(record);
          continue;
        }
        const watermark = streamScope ? streamClock.observe(record, now) : t - lateness;
        if (watermark > state.watermark) {
          state.watermark = watermark;
          if (watermark >= state.nextCloseAt) closeWhere(state, (w) => w.end <= watermark, closed);
        }
      }
      emitClosed(closed, out);
      if (late.length > 0) {
        retainAll(batch.tokens);
        out.emitSide(LATE_PORT, { records: late, tokens: batch.tokens.slice() });
      }
      releaseAll(batch.tokens);
    },

    onTick(now, out) {
      const idle = options.idleTimeoutMs;
      if (idle === undefined) return;
      const closed: OpenWindow<A>[] = [];
      if (streamScope) {
        // Quiet partitions stop holding the shared clock back; windows the others have passed close now.
        streamClock.forgetIdle(now, idle);
        const state = partitions.get('*');
        const watermark = streamClock.value;
        if (state && watermark > state.watermark) {
          state.watermark = watermark;
          closeWhere(state, (w) => w.end <= watermark, closed);
        }
      }
      for (const state of partitions.values()) {
        if (state.open.size === 0 || now - state.lastArrival < idle) continue;
        const before = closed.length;
        closeWhere(state, () => true, closed);
        // Later records for the windows just closed count as late, as if event time had moved past them.
        for (let i = before; i < closed.length; i++) if (closed[i]!.end > state.watermark) state.watermark = closed[i]!.end;
        if (streamScope) streamClock.advanceTo(state.watermark);
      }
      emitClosed(closed, out);
    },

    onEnd(out) {
      const closed: OpenWindow<A>[] = [];
      for (const state of partitions.values()) closeWhere(state, () => true, closed);
      emitClosed(closed, out);
    },

    onRevoke(revoked: readonly TopicPartition[]) {
      if (streamScope) return; // shared state also holds kept partitions' records: releasing it would lose them
      for (const p of revoked) {
        const id = `${p.topic}\u0000${p.partition}`;
        const state = partitions.get(id);
        if (!state) continue;
        for (const w of state.open.values()) releaseAll(w.tokens);
        partitions.delete(id);
      }
    },
  };
}
