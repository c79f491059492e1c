import { describe, expect, it } from 'vitest';
import { Pipeline } from '../streams/kernel/pipeline.ts';
import type { StreamRecord } from '../streams/kernel/record.ts';
import { runPipeline } from '../streams/kernel/runner.ts';
import type { Sink } from '../streams/kernel/sink.ts';
import type { Source, SourceBatch } from '../streams/kernel/source.ts';

const RECORDS = 400_000;
const BATCH = 1_000;
const VALUE_BYTES = 1_024;

/** A source that makes 1 KB records as fast as it is asked: without backpressure it would outrun any sink. */
function fastSource(): Source<Buffer> & { produced: () => number } {
  let offset = 0;
  return {
    name: 'source:generated',
    produced: () => offset,
    async poll(): Promise<SourceBatch<Buffer>[]> {
      if (offset >= RECORDS) return [];
      const records: StreamRecord<Buffer>[] = [];
      for (let i = 0; i < BATCH; i++, offset++) {
        records.push({
          key: `k${offset}`,
          value: Buffer.alloc(VALUE_BYTES, offset % 251),
          eventTime: offset,
          headers: {},
          position: { topic: 'gen', partition: 0, offset },
        });
      }
      return [{ topic: 'gen', partition: 0, records, nextOffset: offset }];
    },
    async commit() {},
    async caughtUp() {
      return offset >= RECORDS;
    },
    onRevoked() {},
    async close() {},
  };
}

describe('backpressure', () => {
  it('keeps memory bounded when the sink is 10x slower than the source, and delivers everything', async () => {
    // How fast the source alone is, to make the sink 10x slower than that.
    const probe = fastSource();
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) await probe.poll(0);
    const sourceRecordsPerMs = (50 * BATCH) / (performance.now() - t0);
    const sinkMsPerBatch = (10 * BATCH) / sourceRecordsPerMs;

    const source = fastSource();
    let delivered = 0;
    let maxAhead = 0;
    const slowSink: Sink<Buffer> = {
      name: 'slow',
      async write(records) {
        delivered += records.length;
        maxAhead = Math.max(maxAhead, source.produced() - delivered);
        await new Promise((r) => setTimeout(r, sinkMsPerBatch));
      },
    };
    const p = new Pipeline('backpressure');
    p.from(source)
      .map('copy', (v) => v)
      .to(slowSink);

    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    await runPipeline(p, { untilIdle: true, queueCapacity: 4 });
    clearInterval(sampler);

    const totalMb = (RECORDS * VALUE_BYTES) / 2 ** 20;
    const growthMb = (peak - baseline) / 2 ** 20;
    console.log(
      `backpressure: sink ${sinkMsPerBatch.toFixed(1)} ms/batch; ${totalMb.toFixed(0)} MB pushed; RSS ` +
        `grew ${growthMb.toFixed(0)} MB; source at most ${maxAhead} records ahead`,
    );
    expect(delivered).toBe(RECORDS);
    // In flight at most: 2 queues x 4 batches + one batch in each of source, stage and sink.
    expect(maxAhead).toBeLessThanOrEqual(12 * BATCH);
    expect(growthMb).toBeLessThan(150); // of ~390 MB pushed through
  }, 120_000);
});
