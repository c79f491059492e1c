import { describe, expect, it } from 'vitest';
import { ArraySink } from '../../memory/array-sink.ts';
import { MemoryTransport } from '../../memory/memory-log.ts';
import { topicSource } from '../../transport/topic-source.ts';
import { Pipeline } from '../../pipeline.ts';
import { runPipeline } from '../../runner.ts';
import type { WindowResult, WindowSpec } from './window-spec.ts';
import { countWindow, hopping, tumbling, windowStarts } from './window-spec.ts';

interface Reading {
  sensor: string;
  t: number;
  v: number;
}

/** Produces readings (one partition unless given) and runs a keyed sum window over them until idle. */
async function runWindow(
  readings: Reading[],
  build: (p: Pipeline, t: MemoryTransport) => { results: ArraySink<WindowResult<number>>; late: ArraySink<Reading> },
  batchSize = 3,
) {
  const transport = new MemoryTransport();
  await transport.ensureTopic('readings', 1);
  const producer = await transport.producer();
  for (let i = 0; i < readings.length; i += batchSize) {
    await producer.send(
      'readings',
      readings
        .slice(i, i + batchSize)
        .map((r) => ({ key: r.sensor, value: Buffer.from(JSON.stringify(r)), timestamp: r.t, partition: 0 })),
    );
  }
  const p = new Pipeline('window-test');
  const sinks = build(p, transport);
  await runPipeline(p, { untilIdle: true });
  return sinks;
}

function sumPipeline(spec: WindowSpec, lateness = 0, maxBatch?: number) {
  return (p: Pipeline, transport: MemoryTransport) => {
    const results = new ArraySink<WindowResult<number>>('results');
    const late = new ArraySink<Reading>('late');
    const w = p
      .from(topicSource(transport, { topic: 'readings', group: 'g', maxBatchRecords: maxBatch }))
      .map('parse', (b) => JSON.parse(b.toString()) as Reading)
      .keyBy('by-sensor', (r) => r.sensor)
      .window('sum', { spec, allowedLatenessMs: lateness, init: () => 0, add: (acc, r) => acc + r.v });
    w.to(results);
    w.late.to(late);
    return { results, late };
  };
}

const simplify = (rs: WindowResult<number>[]) => rs.map((r) => `${r.key}[${r.start},${r.end})=${r.value}/${r.count}`);

// Out of order within the allowed lateness of 5: t=3 arrives after t=7 and still counts.
const readings: Reading[] = [
  { sensor: 'a', t: 1, v: 1 },
  { sensor: 'b', t: 2, v: 10 },
  { sensor: 'a', t: 7, v: 2 },
  { sensor: 'a', t: 3, v: 4 },
  { sensor: 'b', t: 11, v: 20 },
  { sensor: 'a', t: 12, v: 8 },
  { sensor: 'a', t: 4, v: 100 }, // watermark is 12-5=7 ≥ end of [0,5): late
  { sensor: 'b', t: 9, v: 40 },
  { sensor: 'a', t: 21, v: 16 },
];

describe('event-time windows', () => {
  it('tumbling windows give exact per-key sums on out-of-order input, late records go to the side output', async () => {
    const { results, late } = await runWindow(readings, sumPipeline(tumbling(5), 5));
    expect(simplify(results.values)).toEqual([
      'a[0,5)=5/2',
      'b[0,5)=10/1',
      'a[5,10)=2/1',
      'b[5,10)=40/1',
      'a[10,15)=8/1',
      'b[10,15)=20/1',
      'a[20,25)=16/1',
    ]);
    expect(late.values).toEqual([{ sensor: 'a', t: 4, v: 100 }]);
  });

  it('hopping windows give exact sums; a record partly late still counts in its open windows', async () => {
    const { results, late } = await runWindow(readings, sumPipeline(hopping(10, 5), 5));
    const got = simplify(results.values).sort();
    // t=4 (v=100) arrives when watermark=7: [-5,5) is closed, [0,10) is still open and takes it.
    expect(got).toEqual(
      [
        'a[-5,5)=5/2',
        'a[0,10)=107/4',
        'a[5,15)=10/2',
        'a[10,20)=8/1',
        'a[15,25)=16/1',
        'a[20,30)=16/1',
        'b[-5,5)=10/1',
        'b[0,10)=50/2',
        'b[5,15)=60/2',
        'b[10,20)=20/1',
      ].sort(),
    );
    expect(late.values).toEqual([]);
  });

  it('gives the same windows whatever the batching', async () => {
    const one = await runWindow(readings, sumPipeline(tumbling(5), 5), 1);
    const all = await runWindow(readings, sumPipeline(tumbling(5), 5, 1000), 1000);
    expect(simplify(one.results.values)).toEqual(simplify(all.results.values));
  });

  it('count windows emit every N records per key, and the remainder at end of input', async () => {
    const { results } = await runWindow(readings, sumPipeline(countWindow(2)));
    expect(simplify(results.values)).toEqual([
      'a[1,8)=3/2',
      'b[2,12)=30/2',
      'a[3,13)=12/2',
      'a[4,22)=116/2',
      'b[9,10)=40/1',
    ]);
  });

  it('closes the windows of an idle partition after the idle timeout, while the pipeline keeps running', async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopic('readings', 2);
    const producer = await transport.producer();
    const send = (partition: number, r: Reading) =>
      producer.send('readings', [{ key: r.sensor, value: Buffer.from(JSON.stringify(r)), timestamp: r.t, partition }]);
    const p = new Pipeline('idle-test');
    const results = new ArraySink<WindowResult<number>>('results');
    const late = new ArraySink<Reading>('late');
    const windows = p
      .from(topicSource(transport, { topic: 'readings', group: 'g' }))
      .map('parse', (b) => JSON.parse(b.toString()) as Reading)
      .keyBy('by-sensor', (r) => r.sensor)
      .window('sum', { spec: tumbling(1000), idleTimeoutMs: 300, init: () => 0, add: (acc, r) => acc + r.v });
    windows.to(results);
    windows.late.to(late);
    const stop = new AbortController();
    const run = runPipeline(p, { signal: stop.signal, tickMs: 50, pollWaitMs: 20 });
    // Partition 1 gets one record and then goes quiet; its watermark never reaches 1000.
    await send(1, { sensor: 'quiet', t: 10, v: 7 });
    await new Promise((r) => setTimeout(r, 150));
    expect(results.values).toEqual([]); // not before the idle timeout
    const deadline = Date.now() + 3000;
    while (results.values.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(simplify(results.values)).toEqual(['quiet[0,1000)=7/1']);
    // A later record for the closed window is late; a new window opens normally.
    await send(1, { sensor: 'quiet', t: 20, v: 1 });
    await send(1, { sensor: 'quiet', t: 1500, v: 2 });
    while (late.values.length === 0 && Date.now() < deadline + 2000) await new Promise((r) => setTimeout(r, 20));
    expect(late.values).toEqual([{ sensor: 'quiet', t: 20, v: 1 }]);
    stop.abort();
    await run;
    // Shutdown does not emit the open window [1000,2000): it was never acknowledged, so it is re-read on restart.
    expect(simplify(results.values)).toEqual(['quiet[0,1000)=7/1']);
  });

  it("scope 'stream' keeps one window per key across partitions, with one watermark", async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopic('readings', 2);
    const producer = await transport.producer();
    // Partition 0 and 1 both contribute to [0,10); the partition-scoped window would emit it twice.
    await producer.send('readings', [
      { key: 'x', value: Buffer.from(JSON.stringify({ sensor: 'x', t: 1, v: 1 })), timestamp: 1, partition: 0 },
      { key: 'x', value: Buffer.from(JSON.stringify({ sensor: 'x', t: 2, v: 2 })), timestamp: 2, partition: 1 },
      { key: 'x', value: Buffer.from(JSON.stringify({ sensor: 'x', t: 15, v: 4 })), timestamp: 15, partition: 1 },
    ]);
    const run = async (scope: 'stream' | 'partition') => {
      const results = new ArraySink<WindowResult<number>>('results');
      const p = new Pipeline('scope-test');
      p.from(topicSource(transport, { topic: 'readings', group: `g-${scope}` }))
        .map('parse', (b) => JSON.parse(b.toString()) as Reading)
        .keyBy('by-sensor', (r) => r.sensor)
        .window('sum', { spec: tumbling(10), scope, init: () => 0, add: (acc, r) => acc + r.v })
        .to(results);
      await runPipeline(p, { untilIdle: true });
      return simplify(results.records.map((r) => r.value)).sort();
    };
    expect(await run('stream')).toEqual(['x[0,10)=3/2', 'x[10,20)=4/1']);
    expect(await run('partition')).toEqual(['x[0,10)=1/1', 'x[0,10)=2/1', 'x[10,20)=4/1']);
  });

  it('lists the windows a time falls into', () => {
    expect(windowStarts(hopping(10, 5), 7)).toEqual([5, 0]);
    expect(windowStarts(tumbling(10), -3)).toEqual([-10]);
  });
});
