import { describe, expect, it } from 'vitest';
import { CommitTracker } from './ack.ts';
import { StageMetrics } from './metrics.ts';
import type { StreamRecord } from './record.ts';
import { Collector } from './stage-collector.ts';
import { type StatefulContext, statefulStage } from './stateful.ts';
import { type WindowClockOptions, type WindowResult, hopping, tumbling } from './windower-spec.ts';
import { LATE_PORT, type Window, Windower, windowRecord } from './windower.ts';

/** A counting window stage written the way operators use the engine: windower + stateful logic. */
function countingWindows(options: WindowClockOptions) {
  const windower = new Windower<number, number>({ ...options, init: () => 0, add: (n) => n + 1 });
  const emit = (closed: Window<number>[], ctx: StatefulContext<WindowResult<number>>) => {
    if (closed.length > 0)
      ctx.emit(
        closed.map((w) => windowRecord(w, false, w.acc)),
        { closes: closed },
      );
  };
  return statefulStage<number, WindowResult<number>>('count', {
    onBatch(records, ctx) {
      const { closed, late } = windower.add(records, ctx);
      emit(closed, ctx);
      if (late.length > 0) ctx.emitSide(LATE_PORT, late, { withBatch: true });
    },
    onEof: (ctx) => emit(windower.closeAll(), ctx),
    onRevoke: (partitions, ctx) => windower.revoke(partitions, ctx),
  });
}

type Reading = [key: string, time: number];

function harness(options: WindowClockOptions) {
  const stage = countingWindows(options);
  const tracker = new CommitTracker();
  const metrics = new StageMetrics('count');
  const out = new Collector('count', metrics);
  const offsets = new Map<number, number>();
  const feed = async (readings: Reading[], partition = 0) => {
    let offset = offsets.get(partition) ?? 0;
    const records = readings.map(
      ([key, t]): StreamRecord<number> => ({
        key,
        value: t,
        eventTime: t,
        headers: {},
        position: { topic: 't', partition, offset: offset++ },
      }),
    );
    offsets.set(partition, offset);
    await stage.onBatch({ records, tokens: [tracker.track('t', partition, offset)] }, out);
  };
  const windows = () =>
    out.emitted
      .filter((e) => e.port === 'main')
      .flatMap((e) => e.batch.records.map((r) => r.value as WindowResult<number>));
  const show = () => windows().map((w) => `${w.key}[${w.start},${w.end})=${w.value}`);
  const acknowledge = () => {
    for (const e of out.emitted) for (const t of e.batch.tokens) t.release();
    out.emitted.length = 0;
  };
  const committed = () => tracker.takeCommittable().map((p) => `${p.partition}@${p.offset}`);
  return { stage, out, metrics, tracker, feed, windows, show, acknowledge, committed };
}

/** Two series in one partition, the second starting before the first ended (as NAB files do), batches interleaved. */
function interleavedSeries(): Reading[][] {
  const a: Reading[] = Array.from({ length: 100 }, (_, i) => ['a', 100 + i]);
  const b: Reading[] = Array.from({ length: 100 }, (_, i) => ['b', i]);
  const batches: Reading[][] = [];
  for (let i = 0; i < 100; i += 10) batches.push(a.slice(i, i + 10), b.slice(i, i + 10));
  return batches;
}

describe('windower on the stateful engine', () => {
  it('holds a batch until every window it fed is written, and releases each reference exactly once', async () => {
    const h = harness({ spec: tumbling(10) });
    await h.feed([
      ['k', 1],
      ['k', 2],
    ]);
    await h.feed([
      ['k', 8],
      ['k', 12],
    ]); // feeds [0,10) and [10,20)
    expect(h.committed()).toEqual([]);
    await h.feed([['k', 25]]); // closes both
    expect(h.show()).toEqual(['k[0,10)=3', 'k[10,20)=1']);
    expect(h.committed()).toEqual([]); // emitted, not yet written
    h.acknowledge();
    expect(h.committed()).toEqual(['0@4']); // batch 3 is held by [20,30)
    await h.stage.onEnd!(h.out);
    h.acknowledge(); // a second release of any token would throw "released too often"
    expect(h.committed()).toEqual(['0@5']);
    expect(h.tracker.pendingBatches).toBe(0);
  });

  it('a batch in two hopping windows goes out with the first to close and is committed after the second', async () => {
    const h = harness({ spec: hopping(10, 5) });
    await h.feed([['k', 7]]); // windows [0,10) and [5,15)
    await h.feed([['k', 10]]); // windows [5,15) and [10,20); closes [0,10)
    expect(h.show()).toEqual(['k[0,10)=1']);
    h.acknowledge();
    expect(h.committed()).toEqual([]); // batch 1 is still held by [5,15)
    await h.feed([['k', 15]]); // closes [5,15)
    h.acknowledge();
    expect(h.committed()).toEqual(['0@1']); // batch 2 is still held by [10,20)
  });

  it('sends records whose windows have closed to the late port with their batch, and counts them', async () => {
    const h = harness({ spec: tumbling(10), allowedLatenessMs: 2 });
    await h.feed([
      ['k', 1],
      ['k', 13],
      ['k', 9],
      ['k', 3],
      ['k', 14],
    ]); // watermark 11 after t=13: 9 and 3 are late
    expect(h.metrics.late).toBe(2);
    const late = h.out.emitted.filter((e) => e.port === LATE_PORT);
    expect(late.map((e) => e.batch.records.map((r) => r.eventTime))).toEqual([[9, 3]]);
    h.acknowledge();
    expect(h.committed()).toEqual([]); // the batch is also held by [10,20)
    await h.stage.onEnd!(h.out);
    h.acknowledge();
    expect(h.committed()).toEqual(['0@5']);
  });

  it('event time per key: interleaved series lose nothing and give more windows than one partition clock', async () => {
    const byPartition = harness({ spec: tumbling(10) });
    const byKey = harness({ spec: tumbling(10), eventTime: 'key' });
    for (const batch of interleavedSeries()) {
      await byPartition.feed(batch);
      await byKey.feed(batch);
    }
    await byPartition.stage.onEnd!(byPartition.out);
    await byKey.stage.onEnd!(byKey.out);
    // One partition clock: series a runs ahead at t ≥ 100, so every record of b (t < 100) is late.
    expect(byPartition.metrics.late).toBe(100);
    expect(byPartition.windows().length).toBe(10);
    // One clock per key: no record late, b's ten windows as well as a's.
    expect(byKey.metrics.late).toBe(0);
    expect(byKey.windows().length).toBe(20);
    expect(byKey.windows().every((w) => w.value === 10)).toBe(true);
    for (const h of [byPartition, byKey]) {
      h.acknowledge();
      expect(h.tracker.pendingBatches).toBe(0);
    }
  });

  it('event time per key: the partition clock still bounds the state of a key that went quiet', async () => {
    const h = harness({ spec: tumbling(10), eventTime: 'key', maxKeyLagMs: 30 });
    await h.feed([
      ['quiet', 5],
      ['busy', 1],
    ]);
    await h.feed([['busy', 39]]);
    expect(h.show()).toEqual(['busy[0,10)=1']); // the quiet key's window is only 29 behind the partition clock
    await h.feed([['busy', 41]]);
    // 41 − 30 passed the quiet window's end
    expect(h.show()).toEqual(['busy[0,10)=1', 'quiet[0,10)=1', 'busy[30,40)=1']);
    await h.feed([['quiet', 7]]); // its window closed: late, as if its own clock had passed it
    expect(h.metrics.late).toBe(1);
  });

  it('a revoked partition drops its windows and acknowledges what they held; the others keep theirs', async () => {
    const h = harness({ spec: tumbling(10) });
    await h.feed([['k', 1]], 0);
    await h.feed([['k', 2]], 1);
    h.stage.onRevoke!([{ topic: 't', partition: 0 }]);
    expect(h.committed()).toEqual(['0@1']);
    await h.stage.onEnd!(h.out);
    expect(h.show()).toEqual(['k[0,10)=1']);
    h.acknowledge();
    expect(h.committed()).toEqual(['1@1']);
  });
});
