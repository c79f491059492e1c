import { describe, expect, it } from 'vitest';
import { CommitTracker } from './ack.ts';
import { StageMetrics } from './metrics.ts';
import type { StreamRecord } from './record.ts';
import { Collector } from './stage-collector.ts';
import type { Stage } from './stage.ts';
import { type BatchRef, statefulStage } from './stateful.ts';

const record = (value: number, offset: number): StreamRecord<number> => ({
  key: null,
  value,
  eventTime: value,
  headers: {},
  position: { topic: 't', partition: 0, offset },
});

/** Feeds one source batch per value list, each with its own tracked token; returns what the stage emitted. */
function harness<O>(stage: Stage<number, O>) {
  const tracker = new CommitTracker();
  const out = new Collector(stage.name, new StageMetrics(stage.name));
  let offset = 0;
  const feed = async (values: number[]) => {
    const records = values.map((v) => record(v, offset++));
    await stage.onBatch({ records, tokens: [tracker.track('t', 0, offset)] }, out);
  };
  const committed = () => tracker.takeCommittable().map((p) => p.offset);
  /** The sink writes everything emitted so far: each reference it received is released once. */
  const acknowledge = () => {
    for (const { batch } of out.emitted.splice(0)) for (const t of batch.tokens) t.release();
  };
  const emitted = () =>
    out.emitted.map(({ batch, port }) => ({
      port,
      values: batch.records.map((r) => r.value),
      tokens: batch.tokens.map((t) => t.nextOffset),
    }));
  return { feed, committed, acknowledge, emitted, out, tracker };
}

describe('statefulStage', () => {
  it('keeps held batches uncommitted until their state is emitted, then hands them on once', async () => {
    // Sums values until the sum reaches 10, then emits it: the state depends on every batch since the last emission.
    let sum = 0;
    const stage = statefulStage<number, number>('sum', {
      onBatch(records, ctx) {
        for (const r of records) {
          sum += r.value;
          ctx.hold('sum');
          if (sum >= 10) {
            ctx.emit([{ ...r, value: sum }], { closes: ['sum'] });
            sum = 0;
          }
        }
      },
    });
    const h = harness(stage);
    await h.feed([1, 2]);
    await h.feed([3]);
    expect(h.committed()).toEqual([]); // both batches are held by the open sum
    await h.feed([4, 5]);
    // The emitted sum carries the three batches' references, each once (the state held each batch once).
    expect(h.emitted()).toEqual([{ port: 'main', values: [10], tokens: [2, 3, 5] }]); // next offsets
    expect(h.committed()).toEqual([]); // not before the sink has written the sum
    h.acknowledge();
    // Batch 3 ([4, 5]) is still held: 5 went into the next sum.
    expect(h.tracker.pendingBatches).toBe(1);
    expect(h.committed()).toEqual([3]);
  });

  it('releases what the logic does not hold once the batch is handled; emits side records with the batch', async () => {
    const stage = statefulStage<number, number>('late', {
      onBatch(records, ctx) {
        const late = records.filter((r) => r.value < 0);
        if (late.length > 0) ctx.emitSide('late', late, { withBatch: true });
      },
    });
    const h = harness(stage);
    await h.feed([1, 2]);
    expect(h.committed()).toEqual([2]);
    await h.feed([3, -1]);
    expect(h.emitted()).toEqual([{ port: 'late', values: [-1], tokens: [4] }]);
    expect(h.out.emitted.length).toBe(1);
    expect(h.committed()).toEqual([]);
    h.acknowledge();
    expect(h.committed()).toEqual([4]);
  });

  it('with `only`, the output stands for the chosen batches; the closing state releases the others now', async () => {
    const refs: BatchRef[] = [];
    const stage = statefulStage<number, number>('pick', {
      onBatch(records, ctx) {
        ctx.hold('window');
        refs.push(ctx.batch());
        if (refs.length === 3) ctx.emit([records[0]!], { closes: ['window'], only: [refs[1]!, refs[1]!] });
      },
    });
    const h = harness(stage);
    await h.feed([1]);
    await h.feed([2]);
    expect(h.committed()).toEqual([]);
    await h.feed([3]);
    expect(h.emitted()).toEqual([{ port: 'main', values: [3], tokens: [2] }]); // batch 2 once, though named twice
    expect(h.committed()).toEqual([1]); // batch 1 is done; batch 2 waits for the sink, so batch 3 cannot commit
    h.acknowledge();
    expect(h.committed()).toEqual([3]);
  });

  it('drops empty emissions, unless they carry the batch, and drop() acknowledges a state without output', async () => {
    const stage = statefulStage<number, number>('empty', {
      onBatch(records, ctx) {
        ctx.hold('s');
        if (records[0]!.value === 1) ctx.emit([], { closes: ['s'] });
        if (records[0]!.value === 2) ctx.emit([], { port: 'other', withBatch: true });
        if (records[0]!.value === 3) ctx.drop('s');
      },
    });
    const h = harness(stage);
    await h.feed([1]);
    expect(h.emitted()).toEqual([]);
    expect(h.committed()).toEqual([1]);
    await h.feed([2]);
    expect(h.emitted()).toEqual([{ port: 'other', values: [], tokens: [2] }]);
    h.acknowledge();
    expect(h.committed()).toEqual([]); // still held by 's'
    await h.feed([3]);
    expect(h.committed()).toEqual([3]);
  });

  it('refuses hold() outside a batch, and runs async logic before releasing the batch', async () => {
    const stage = statefulStage<number, number>('async', {
      async onBatch(records, ctx) {
        await Promise.resolve();
        ctx.emit(records, { withBatch: true });
      },
      onEof(ctx) {
        ctx.hold('nothing');
      },
    });
    const h = harness(stage);
    await h.feed([5]);
    expect(h.emitted()).toEqual([{ port: 'main', values: [5], tokens: [1] }]);
    h.acknowledge();
    expect(h.committed()).toEqual([1]);
    expect(() => stage.onEnd!(h.out)).toThrow(/outside a batch/);
  });
});
