import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { openWarehouse, type Warehouse } from './warehouse.ts';
import { Pipeline } from '../../streams/kernel/pipeline.ts';
import type { StreamRecord } from '../../streams/kernel/record.ts';
import { runPipeline } from '../../streams/kernel/runner.ts';
import type { Sink } from '../../streams/kernel/sink.ts';
import type { Source, SourceBatch } from '../../streams/kernel/source.ts';
import type { Stage } from '../../streams/kernel/stage.ts';

const BATCHES = 5;
const PER_BATCH = 25;
const TOTAL = BATCHES * PER_BATCH;
/** Ticks every hour: the only thing left that can make a sink write before the end is its own timer. */
const NO_TICKS = 3_600_000;

/** `BATCHES` batches of `PER_BATCH` numbers, all available at once; caught up once `lastWritten` resolved. */
function numberSource(lastWritten: Promise<void>): Source<number> {
  let next = 0;
  const record = (n: number): StreamRecord<number> => ({
    key: null,
    value: n,
    eventTime: n,
    headers: {},
    position: { topic: 'numbers', partition: 0, offset: n },
  });
  return {
    name: 'numbers',
    async poll(): Promise<SourceBatch<number>[]> {
      if (next >= TOTAL) return [];
      const records = Array.from({ length: PER_BATCH }, () => record(next++));
      return [{ topic: 'numbers', partition: 0, records, nextOffset: next }];
    },
    async commit() {},
    async caughtUp() {
      if (next < TOTAL) return false;
      await lastWritten; // so the end of input cannot be what flushes the last batch
      return true;
    },
    onRevoked() {},
    async close() {},
  };
}

/** Resolves `written(i)` once the sink's i-th write has resolved (the sink calls `wrote()`). */
function writeSignals() {
  const resolvers: Array<() => void> = [];
  const promises = Array.from({ length: BATCHES }, (_, i) => new Promise<void>((r) => (resolvers[i] = r)));
  let writes = 0;
  return { written: (i: number) => promises[i]!, wrote: () => resolvers[writes++]?.() };
}

type Signals = ReturnType<typeof writeSignals>;

/**
 * A slow stage that will not touch batch i+1 before the sink wrote batch i: before sinks had their own flush timer,
 * they flushed on ticks that had to pass this stage, so this pipeline would wait forever.
 */
function gatedStage(slowMs: number, signals: Signals, emittedAt: number[]): Stage<number, number> {
  let index = 0;
  return {
    name: 'slow',
    async onBatch(batch, out) {
      const i = index++;
      if (i > 0) await signals.written(i - 1);
      await new Promise((r) => setTimeout(r, slowMs));
      emittedAt[i] = performance.now();
      out.emit(batch);
    },
  };
}

function gatedPipeline(name: string, sink: Sink<number>, signals: Signals, slowMs: number, emittedAt: number[] = []) {
  const p = new Pipeline(name);
  p.from(numberSource(signals.written(BATCHES - 1)))
    .through(gatedStage(slowMs, signals, emittedAt))
    .to(sink);
  return p;
}

/** The warehouse's `events` sink, timing each write and counting the rows a query sees right after it. */
function timedSink(warehouse: Warehouse, signals: Signals) {
  const countSql = `SELECT count(*) AS n FROM events${warehouse.kind === 'clickhouse' ? ' FINAL' : ''}`;
  const count = async () => Number((await warehouse.query(countSql))[0]!.n);
  const rows = warehouse.sink<number>('events', (r) => {
    const n = r.value;
    return { id: `flush/${n}`, version: 1, source: 'flush-timer', key: 'k', ts: n, value: n, attributes: '{}' };
  });
  const started: number[] = [];
  const ended: number[] = [];
  const visible: number[] = [];
  const sink: Sink<number> = {
    name: rows.name,
    batchRecords: rows.batchRecords,
    maxWaitMs: rows.maxWaitMs,
    async write(records, reject) {
      started.push(performance.now());
      await rows.write(records, reject);
      ended.push(performance.now());
      visible.push(await count()); // queryable now, before the stage may go on
      signals.wrote();
    },
  };
  return { sink, started, ended, visible };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => x.toFixed(0);
const figures = (xs: number[]) => `${ms(median(xs))} ms (${ms(Math.min(...xs))}–${ms(Math.max(...xs))})`;
const GATED_RUN = { untilIdle: true, queueCapacity: 1, tickMs: NO_TICKS };

describe('sink flush timer', () => {
  it('writes held records once maxWaitMs passed, while the queues upstream are full and no tick comes', async () => {
    const signals = writeSignals();
    const writes: number[][] = [];
    const sink: Sink<number> = {
      name: 'patient',
      batchRecords: 1_000_000,
      maxWaitMs: 20,
      async write(records) {
        writes.push(records.map((r) => r.value));
        signals.wrote();
      },
    };
    const result = await runPipeline(gatedPipeline('flush-timer', sink, signals, 0), GATED_RUN);
    // Each batch was written on its own, before the next one could leave the stage: the timer did it.
    const batch = (b: number) => Array.from({ length: PER_BATCH }, (_, i) => b * PER_BATCH + i);
    const batches = Array.from({ length: BATCHES }, (_, b) => batch(b));
    expect(writes).toEqual(batches);
    const metrics = result.metrics.find((m) => m.stage === 'patient');
    expect(metrics).toMatchObject({ recordsIn: TOTAL, recordsOut: TOTAL, batches: BATCHES });
  }, 30_000); // without the timer this run never ends: fail in 30 s rather than the suite's 120 s

  for (const kind of ['duckdb', 'clickhouse'] as const) {
    const title = `with DRIFTLINE_WAREHOUSE_FLUSH_MS=50 and a slow stage, rows reach ${kind} within 50 ms + one insert`;
    it(title, async () => {
      const home = mkdtempSync(join(tmpdir(), 'driftline-flush-timer-'));
      const database = `flush_timer_${process.pid}_${Date.now()}`;
      const env = { DRIFTLINE_HOME: home, CLICKHOUSE_DATABASE: database, DRIFTLINE_WAREHOUSE_FLUSH_MS: '50' };
      const clickhouseUrl = kind === 'clickhouse' ? inject('CLICKHOUSE_URL') : '';
      const warehouse = await openWarehouse(loadSettings({ ...env, CLICKHOUSE_URL: clickhouseUrl }));
      try {
        await warehouse.ensureTables(['events']);
        const signals = writeSignals();
        const timed = timedSink(warehouse, signals);
        expect(timed.sink.maxWaitMs).toBe(50);
        expect(timed.sink.batchRecords).toBeGreaterThan(TOTAL); // only the timer can write before the end
        const emittedAt: number[] = [];
        await runPipeline(gatedPipeline(`flush-timer-${kind}`, timed.sink, signals, 100, emittedAt), GATED_RUN);

        expect(timed.visible).toEqual(Array.from({ length: BATCHES }, (_, i) => (i + 1) * PER_BATCH));
        const waited = emittedAt.map((t, i) => timed.started[i]! - t);
        const inserts = timed.started.map((t, i) => timed.ended[i]! - t);
        const total = emittedAt.map((t, i) => timed.ended[i]! - t);
        const measured = `held ${figures(waited)}; insert ${figures(inserts)}; stage → rows in ${figures(total)}`;
        console.log(`flush timer (${kind}, maxWaitMs 50): ${measured}`);
        for (let i = 0; i < BATCHES; i++) {
          expect(waited[i]).toBeGreaterThanOrEqual(49); // held for maxWaitMs (timers may round down by 1 ms)…
          // …then written at once: 50 ms + the insert, with room for a loaded machine's timer lag (20× the setting).
          expect(total[i]).toBeLessThan(50 + inserts[i]! + 20 * 50);
        }
      } finally {
        if (kind === 'clickhouse') await warehouse.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
        await warehouse.close();
        rmSync(home, { recursive: true, force: true });
      }
    });
  }
});
