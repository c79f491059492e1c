import { describe, expect, it } from 'vitest';
import { MemoryTransport } from './memory/memory-log.ts';
import { topicSource } from './transport/topic-source.ts';
import { CommitTracker } from './ack.ts';
import { ConsumerLag } from './consumer-lag.ts';
import { EndToEndLatency, SENT_AT_HEADER, startTimes } from './end-to-end-latency.ts';
import { Pipeline } from './pipeline.ts';
import type { StreamRecord } from './record.ts';
import { runPipeline } from './runner.ts';
import { tumbling } from './operators/window/window-spec.ts';
import type { Sink } from './sink.ts';

const record = (headers: Record<string, string> = {}): StreamRecord<unknown> => ({
  key: null,
  value: 1,
  eventTime: 0,
  headers,
  position: { topic: 't', partition: 0, offset: 0 },
});

describe('end-to-end latency accounting', () => {
  it('starts at the sent-at header when a record has one, else at the read time; replays at the read time', () => {
    const records = [
      record(),
      record({ [SENT_AT_HEADER]: '900' }),
      record({ [SENT_AT_HEADER]: 'garbage' }),
      record({ [SENT_AT_HEADER]: '1500' }),
    ];
    expect(startTimes([record(), record()], 1000, 'sent-or-read')).toBe(1000);
    // a sender's clock ahead of ours is capped at the read time: latency never goes negative
    expect([...(startTimes(records, 1000, 'sent-or-read') as Float64Array)]).toEqual([1000, 900, 1000, 1000]);
    expect(startTimes(records, 1000, 'read')).toBe(1000);
  });

  it('measures each record from its start to the moment its batch was fully acknowledged', () => {
    const latency = new EndToEndLatency();
    expect(latency.summary()).toBeNull();
    let now = 0;
    const tracker = new CommitTracker((t) => latency.acknowledged(t.start, t.records, now));
    // 98 records read at t=0 and acknowledged at t=100; 2 records sent at t=-900, acknowledged at t=100 by two sinks.
    const a = tracker.track('t', 0, 98, 98, 0);
    const b = tracker.track('t', 0, 100, 2, Float64Array.from([-900, -900]));
    b.retain(); // a second sink
    now = 100;
    a.release();
    b.release();
    expect(latency.histogram.count).toBe(98); // b still held by the second sink
    b.release();
    const summary = latency.summary()!;
    expect(summary.count).toBe(100);
    // percentiles are histogram bucket bounds: within one bucket (a factor 1.25) above the true value
    expect(summary.p50Ms).toBeGreaterThanOrEqual(100);
    expect(summary.p50Ms).toBeLessThanOrEqual(125);
    expect(summary.p99Ms).toBe(1000); // capped at the largest observation
    expect(tracker.takeCommittable()).toEqual([{ topic: 't', partition: 0, offset: 100 }]);
  });
});

describe('consumer lag accounting', () => {
  it('sums log end minus read position over the partitions read, and keeps the largest sample', async () => {
    let ends = [
      { topic: 't', partition: 0, offset: 1000 },
      { topic: 't', partition: 1, offset: 400 },
      { topic: 't', partition: 2, offset: 50 }, // not read yet: not counted
    ];
    const lag = new ConsumerLag(async () => ends);
    lag.read('t', 0, 200);
    lag.read('t', 1, 400);
    await lag.sample();
    expect(lag.last).toBe(800);
    lag.read('t', 0, 1000);
    ends = [{ topic: 't', partition: 0, offset: 1100 }, ...ends.slice(1)];
    await lag.sample();
    expect(lag.last).toBe(100);
    expect(lag.max).toBe(800);
  });

  it('skips a failed sample and never runs two at once', async () => {
    let calls = 0;
    let fail = true;
    const lag = new ConsumerLag(async () => {
      calls += 1;
      if (fail) throw new Error('broker away');
      return [{ topic: 't', partition: 0, offset: 10 }];
    });
    lag.read('t', 0, 4);
    await lag.sample();
    expect(lag.max).toBeNull();
    fail = false;
    await Promise.all([lag.sample(), lag.sample()]);
    expect(calls).toBe(2);
    expect(lag.max).toBe(6);
  });
});

describe('runner figures', () => {
  it('reports records in, end-to-end latency covering a slow sink, and the lag it started with', async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopic('in', 1);
    const producer = await transport.producer();
    const sentAt = Date.now() - 2_000; // sent two seconds ago: the records waited in the log
    await producer.send(
      'in',
      Array.from({ length: 3_000 }, (_, i) => ({
        key: null,
        value: Buffer.from(String(i)),
        timestamp: i,
        headers: { [SENT_AT_HEADER]: String(sentAt) },
      })),
    );
    const slow: Sink<Buffer> = { name: 'slow', write: () => new Promise((r) => setTimeout(r, 20)) };
    const p = new Pipeline('figures');
    p.from(topicSource(transport, { topic: 'in', group: 'g', maxBatchRecords: 500 }))
      .map('id', (v) => v)
      .to(slow);
    const result = await runPipeline(p, {
      untilIdle: true,
      logEnds: async () => [{ topic: 'in', partition: 0, offset: 3_000 }],
      lagSampleMs: 10,
    });
    expect(result.recordsIn).toBe(3_000);
    expect(result.endToEnd!.count).toBe(3_000);
    expect(result.endToEnd!.p50Ms).toBeGreaterThanOrEqual(2_000);
    // No record waits longer than from its send time to now (the run's duration leaves out the producing before it).
    expect(result.endToEnd!.p99Ms).toBeLessThanOrEqual(Date.now() - sentAt);
    // sampled right after the first batch of 500 was read: most of the backlog is still ahead
    expect(result.maxConsumerLag).toBeGreaterThan(0);
    expect(result.maxConsumerLag).toBeLessThanOrEqual(2_500);
    expect(result.endedAt - result.startedAt).toBe(result.durationMs);

    // Replays measure from the read time: the recorded send times do not count.
    const again = new Pipeline('figures-read');
    again
      .from(topicSource(transport, { topic: 'in', group: 'g2', maxBatchRecords: 500 }))
      .map('id', (v) => v)
      .to(slow);
    const replayed = await runPipeline(again, { untilIdle: true, latencyStart: 'read' });
    expect(replayed.endToEnd!.p99Ms).toBeLessThan(2_000);
    expect(replayed.endToEnd!.p50Ms).toBeGreaterThanOrEqual(15);
    expect(replayed.maxConsumerLag).toBeNull();
  });

  it("ends a record's latency when its own rows are written, not when a window behind it lets go", async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopic('in', 1);
    const producer = await transport.producer();
    await producer.send(
      'in',
      Array.from({ length: 2_000 }, (_, i) => ({ key: null, value: Buffer.from(String(i)), timestamp: i })),
    );
    const fast: Sink<Buffer> = { name: 'rows', write: async () => {} };
    const slowWindowSink: Sink<unknown> = { name: 'window-rows', write: () => new Promise((r) => setTimeout(r, 400)) };
    const p = new Pipeline('windowed');
    const records = p
      .from(topicSource(transport, { topic: 'in', group: 'g', maxBatchRecords: 200 }))
      .map('id', (v) => v);
    records.to(fast);
    // one window over everything: it holds every batch until end of input, then its row takes 400 ms to write
    records.window('all', { spec: tumbling(1_000_000), init: () => 0, add: (n) => n + 1 }).to(slowWindowSink);
    const result = await runPipeline(p, { untilIdle: true });
    expect(result.endToEnd!.count).toBe(2_000);
    expect(result.durationMs).toBeGreaterThanOrEqual(400);
    expect(result.endToEnd!.p99Ms).toBeLessThan(400);
  });
});
