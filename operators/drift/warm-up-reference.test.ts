import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ArraySink } from '../../streams/kernel/memory/array-sink.ts';
import { MemoryTransport } from '../../streams/kernel/memory/memory-log.ts';
import { topicSource } from '../../streams/kernel/transport/topic-source.ts';
import { Pipeline } from '../../streams/kernel/pipeline.ts';
import { runPipeline } from '../../streams/kernel/runner.ts';
import { dataFile } from '../../test/data-dir.ts';
import { countWindow } from '../../streams/kernel/operators/window/window-spec.ts';
import { Adwin } from './detectors/adwin.ts';
import type { DriftFeatures } from './drift-features.ts';
import type { DriftReport } from './drift-report.ts';
import { type DriftWindowOptions, driftWindow } from './drift-window.ts';
import { buildReferenceProfile } from './reference-profile.ts';

interface Reading {
  value: number;
}
interface Keyed {
  key: string;
  time: number;
  value: Reading;
}

const features: DriftFeatures<Reading> = { numeric: { value: (r) => r.value } };
const WARM_UP = 1000;

function nab(file: string, key: string): Keyed[] {
  const lines = readFileSync(dataFile('events', 'nab', 'data', 'realKnownCause', file), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  return lines.map((line) => {
    const [ts, v] = line.split(',');
    return { key, time: Date.parse(`${ts!.replace(' ', 'T')}Z`), value: { value: Number(v) } };
  });
}

/** Two series interleaved record by record, as two keys of one stream. */
const taxi = nab('nyc_taxi.csv', 'taxi').slice(0, 4000);
const temperature = nab('machine_temperature_system_failure.csv', 'temperature').slice(0, 4000);
const interleaved = taxi.flatMap((r, i) => [r, temperature[i]!]);

async function runDrift(
  values: Keyed[],
  options: Omit<DriftWindowOptions<Reading>, 'pipeline'>,
  batch = 500,
): Promise<DriftReport[]> {
  const transport = new MemoryTransport();
  await transport.ensureTopic('in', 1);
  const producer = await transport.producer();
  await producer.send(
    'in',
    values.map((v) => ({ key: v.key, value: Buffer.from(JSON.stringify(v.value)), timestamp: v.time, partition: 0 })),
  );
  const sink = new ArraySink<DriftReport>('reports');
  const p = new Pipeline('warm-up-test');
  p.from(topicSource(transport, { topic: 'in', group: 'g', maxBatchRecords: batch }))
    .map('parse', (b) => JSON.parse(b.toString()) as Reading)
    .through(driftWindow('drift', { pipeline: 'test', warn: () => {}, ...options }))
    .to(sink);
  await runPipeline(p, { untilIdle: true });
  return sink.values;
}

const warmUp = {
  features,
  warmUpReference: { records: WARM_UP },
  window: countWindow(500),
  minWindowSize: 500,
  perKey: true,
};

describe('drift-window with a warm-up reference', () => {
  it("tests each key's windows against a profile of that key's own first records, which are not windowed", async () => {
    const reports = await runDrift(interleaved, warmUp);
    for (const series of [taxi, temperature]) {
      const key = series[0]!.key;
      // The same windows as a fixed reference built from the key's first records, run on the rest of the key.
      const reference = buildReferenceProfile(
        series.slice(0, WARM_UP).map((r) => r.value),
        features,
      );
      const expected = await runDrift(series.slice(WARM_UP), { ...warmUp, warmUpReference: undefined, reference });
      const own = reports.filter((r) => r.key === key);
      expect(own.length).toBe(Math.ceil((series.length - WARM_UP) / 500));
      expect(own).toEqual(expected);
      expect(own[0]!.windowStart).toBe(series[WARM_UP]!.time);
      expect(own.every((r) => r.referenceRows === WARM_UP)).toBe(true);
    }
    // The two series differ, so their references do: a shared profile would give equal statistics.
    // ≤ 1,000 reference rows: KS
    const first = (key: string) => reports.find((r) => r.key === key)!.metrics.find((m) => m.test === 'ks')!.statistic;
    expect(first('taxi')).not.toBe(first('temperature'));
  });

  it('gives the same reports whatever the batching', async () => {
    const one = await runDrift(interleaved, warmUp, 7);
    const two = await runDrift(interleaved, warmUp, 1000);
    expect(one.length).toBeGreaterThan(8);
    expect(two).toEqual(one);
  });

  it('emits no window for a key whose warm-up never completes, while its detectors see every record', async () => {
    const short = temperature.slice(0, WARM_UP - 1);
    const reports = await runDrift(short, {
      ...warmUp,
      detectors: { value: { value: (r) => r.value, method: 'adwin' } },
    });
    expect(reports.filter((r) => r.kind === 'window')).toEqual([]);
    const adwin = new Adwin({ delta: 0.002 });
    const expected = short.filter((r) => adwin.update(r.value.value)).map((r) => r.time);
    expect(expected.length).toBeGreaterThan(0);
    expect(reports.map((r) => r.windowStart)).toEqual(expected);
    expect(reports.every((r) => r.kind === 'change_point' && r.referenceRows === 0)).toBe(true);
  });

  it('keeps one warm-up for the whole stream without perKey', async () => {
    const reports = await runDrift(interleaved, { ...warmUp, perKey: false });
    const reference = buildReferenceProfile(
      interleaved.slice(0, WARM_UP).map((r) => r.value),
      features,
    );
    const expected = await runDrift(interleaved.slice(WARM_UP), {
      ...warmUp,
      perKey: false,
      warmUpReference: undefined,
      reference,
    });
    expect(reports.length).toBe(Math.ceil((interleaved.length - WARM_UP) / 500));
    expect(reports).toEqual(expected);
  });

  it('needs exactly one of a reference and a warm-up, with a positive record count', () => {
    const reference = buildReferenceProfile(
      taxi.slice(0, 10).map((r) => r.value),
      features,
    );
    const base = { pipeline: 'test', features, window: countWindow(500) };
    expect(() => driftWindow('d', base)).toThrow('give either a reference profile or warmUpReference');
    expect(() => driftWindow('d', { ...base, reference, warmUpReference: { records: 10 } })).toThrow(
      'give either a reference profile or warmUpReference',
    );
    expect(() => driftWindow('d', { ...base, warmUpReference: { records: 0 } })).toThrow(
      'warmUpReference.records must be a positive integer',
    );
  });
});
