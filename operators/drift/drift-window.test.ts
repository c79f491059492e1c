import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ArraySink } from '../../streams/kernel/memory/array-sink.ts';
import { MemoryTransport } from '../../streams/kernel/memory/memory-log.ts';
import { hn2013Files, hn2026Files, readHn2013, readHn2026 } from '../../connectors/postings/index.ts';
import { topicSource } from '../../streams/kernel/transport/topic-source.ts';
import { postingTextFeatures } from '../../models/postings/drift-features.ts';
import { Pipeline } from '../../streams/kernel/pipeline.ts';
import { runPipeline } from '../../streams/kernel/runner.ts';
import { dataFile } from '../../test/data-dir.ts';
import { type JobPosting, normalizePosting, type RawPosting } from '../normalize/index.ts';
import { countWindow, tumbling, type WindowSpec } from '../../streams/kernel/operators/window/window-spec.ts';
import { Adwin } from './detectors/adwin.ts';
import type { DriftFeatures } from './drift-features.ts';
import type { DriftReport } from './drift-report.ts';
import { driftMetricRows } from './drift-rows.ts';
import { type DriftWindowOptions, driftWindow } from './drift-window.ts';
import { buildReferenceProfile } from './reference-profile.ts';
import { ksTwoSample } from './stats/ks.ts';
import { normalizedWasserstein } from './stats/wasserstein.ts';

async function normalized(gen: AsyncGenerator<RawPosting[]>): Promise<JobPosting[]> {
  const out: JobPosting[] = [];
  for await (const batch of gen) {
    for (const raw of batch) {
      try {
        out.push(normalizePosting(raw));
      } catch {
        // malformed source records are the normalizer's business (tested there)
      }
    }
  }
  return out;
}

/** Runs values through `driftWindow` on the in-memory transport (one partition, `batch` records per source batch). */
async function runDrift<T>(
  values: { value: T; time: number; key?: string }[],
  options: Omit<DriftWindowOptions<T>, 'pipeline'>,
  batch = 500,
): Promise<DriftReport[]> {
  const transport = new MemoryTransport();
  await transport.ensureTopic('in', 1);
  const producer = await transport.producer();
  for (let i = 0; i < values.length; i += 5000) {
    await producer.send(
      'in',
      values.slice(i, i + 5000).map((v) => ({
        key: v.key ?? null,
        value: Buffer.from(JSON.stringify(v.value)),
        timestamp: v.time,
        partition: 0,
      })),
    );
  }
  const sink = new ArraySink<DriftReport>('reports');
  const p = new Pipeline('drift-test');
  p.from(topicSource(transport, { topic: 'in', group: 'g', maxBatchRecords: batch }))
    .map('parse', (b) => JSON.parse(b.toString()) as T)
    .through(driftWindow('drift', { pipeline: 'test', ...options }))
    .to(sink);
  await runPipeline(p, { untilIdle: true });
  return sink.values;
}

const DAY = 86_400_000;

describe('drift-window on real postings', () => {
  it('names llm, agentic and rag among the top emerging terms of 2026 HN postings against 2013–2018', async () => {
    const old = await normalized(readHn2013(await hn2013Files(dataFile('postings', 'hn-hiring-2013-2018'))));
    const recent = await normalized(readHn2026(await hn2026Files(dataFile('postings', 'hn-hiring-2026'))));
    expect(old.length).toBeGreaterThan(25_000);
    expect(recent.length).toBeGreaterThan(1_500);
    const reference = buildReferenceProfile(old, postingTextFeatures, {
      model: 'postings-a@v1',
      createdFrom: 'hn-hiring-2013-2018',
    });

    const reports = await runDrift(
      recent.map((p, i) => ({ value: p, time: p.posted_at ?? i })),
      { reference, features: postingTextFeatures, window: countWindow(recent.length), keywordSkew: { top: 15 } },
    );
    expect(reports).toHaveLength(1);
    const [report] = reports as [DriftReport];
    expect(report.count).toBe(recent.length);
    const emerging = report.keywords.filter((k) => k.direction === 'emerging').map((k) => k.term);
    expect(emerging).toHaveLength(15);
    for (const term of ['llm', 'agentic', 'rag']) expect(emerging).toContain(term);
    // those terms are absent from the reference vocabulary, present in a real share of 2026 postings
    const llm = report.keywords.find((k) => k.term === 'llm')!;
    expect(llm.referenceShare).toBe(0);
    expect(llm.windowShare).toBeGreaterThan(0.05);
    // the reference is large (> 1000 rows): distances, not p-values
    const keywords = report.metrics.find((m) => m.feature === 'keywords')!;
    expect(keywords.test).toBe('jensen_shannon');
    const length = report.metrics.filter((m) => m.feature === 'description_length').map((m) => m.test);
    expect(length).toEqual(['wasserstein', 'psi']);
    // every metric becomes one drift_metrics row
    expect(driftMetricRows(report, 'run-1')).toHaveLength(report.metrics.length);

    // Control: the last months of 2013–2018 against a reference of the earlier months hardly move.
    const cut = Date.UTC(2017, 4, 1);
    const before = old.filter((p) => (p.posted_at ?? 0) < cut);
    const after = old.filter((p) => (p.posted_at ?? 0) >= cut);
    expect(after.length).toBeGreaterThan(2_000);
    const control = await runDrift(
      after.map((p) => ({ value: p, time: p.posted_at! })),
      {
        reference: buildReferenceProfile(before, postingTextFeatures),
        features: postingTextFeatures,
        window: countWindow(after.length),
      },
    );
    const controlKeywords = control[0]!.metrics.find((m) => m.feature === 'keywords')!;
    expect(keywords.drifted).toBe(true);
    expect(controlKeywords.drifted).toBe(false);
    expect(controlKeywords.statistic).toBeLessThan(keywords.statistic / 2);
    expect(control[0]!.keywords.filter((k) => k.direction === 'emerging').map((k) => k.term)).not.toContain('llm');
  }, 180_000);
});

interface Reading {
  value: number;
  hour: number;
  weekday: string;
}

function nab(file: string): { time: number; value: Reading }[] {
  const lines = readFileSync(dataFile('events', 'nab', 'data', file), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  return lines.map((line) => {
    const [ts, v] = line.split(',');
    const time = Date.parse(`${ts!.replace(' ', 'T')}Z`);
    const d = new Date(time);
    return { time, value: { value: Number(v), hour: d.getUTCHours(), weekday: String(d.getUTCDay()) } };
  });
}

const taxiFeatures: DriftFeatures<Reading> = {
  numeric: { value: (r) => r.value },
  categorical: { weekday: (r) => r.weekday },
};

describe('drift-window on NAB series', () => {
  const taxi = nab('realKnownCause/nyc_taxi.csv');

  it('uses KS and chi-square for a small reference, Wasserstein and Jensen–Shannon for a large one', async () => {
    const small = buildReferenceProfile(
      taxi.slice(0, 1000).map((r) => r.value),
      taxiFeatures,
    );
    const large = buildReferenceProfile(
      taxi.slice(0, 3000).map((r) => r.value),
      taxiFeatures,
    );
    const live = taxi.slice(3000, 6000);
    const spec: WindowSpec = tumbling(14 * DAY);
    const [a, b] = await Promise.all([
      runDrift(live, { reference: small, features: taxiFeatures, window: spec }),
      runDrift(live, { reference: large, features: taxiFeatures, window: spec }),
    ]);
    expect(a.length).toBeGreaterThan(3);
    for (const report of a.filter((r) => r.count >= 500)) {
      const ks = report.metrics.find((m) => m.feature === 'value' && m.test === 'ks')!;
      const windowValues = live
        .filter((r) => r.time >= report.windowStart && r.time < report.windowEnd)
        .map((r) => r.value.value);
      expect(windowValues).toHaveLength(report.count);
      const direct = ksTwoSample(small.numeric.value!.values, windowValues);
      expect(ks.statistic).toBe(direct.statistic);
      expect(ks.pValue).toBe(direct.pValue);
      expect(ks.drifted).toBe(direct.pValue < 0.05);
      expect(report.metrics.find((m) => m.feature === 'weekday')!.test).toBe('chi_square');
    }
    for (const report of b.filter((r) => r.count >= 500)) {
      const w = report.metrics.find((m) => m.feature === 'value' && m.test === 'wasserstein')!;
      const windowValues = live
        .filter((r) => r.time >= report.windowStart && r.time < report.windowEnd)
        .map((r) => r.value.value);
      expect(w.statistic).toBeCloseTo(normalizedWasserstein(large.numeric.value!.values, windowValues), 12);
      expect(report.metrics.find((m) => m.feature === 'weekday')!.test).toBe('jensen_shannon');
      const dataset = report.metrics.find((m) => m.feature === 'dataset')!;
      const primary = report.metrics.filter((m) => m.primary);
      expect(dataset.statistic).toBe(primary.filter((m) => m.drifted).length / primary.length);
      expect(report.datasetDrift).toBe(dataset.statistic >= 0.5);
      expect(report.alerts.some((x) => x.kind === 'dataset_drift')).toBe(report.datasetDrift);
    }
  });

  it('gives the same reports whatever the batching', async () => {
    const reference = buildReferenceProfile(
      taxi.slice(0, 2000).map((r) => r.value),
      taxiFeatures,
    );
    const options = {
      reference,
      features: taxiFeatures,
      window: tumbling(7 * DAY),
      minWindowSize: 300,
      warn: () => {},
    };
    const one = await runDrift(taxi.slice(2000, 5000), options, 7);
    const two = await runDrift(taxi.slice(2000, 5000), options, 1000);
    expect(one.length).toBeGreaterThan(5);
    expect(two).toEqual(one);
  });

  it('warns about a small minimum window and skips windows below it', async () => {
    const warnings: string[] = [];
    const reference = buildReferenceProfile(
      taxi.slice(0, 1000).map((r) => r.value),
      taxiFeatures,
    );
    const reports = await runDrift(taxi.slice(1000, 1700), {
      reference,
      features: taxiFeatures,
      window: tumbling(3 * DAY),
      minWindowSize: 100,
      warn: (m) => warnings.push(m),
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('minimum window size 100 < 500');
    const skipped = reports.filter((r) => r.count < 100);
    const tested = reports.filter((r) => r.count >= 100);
    expect(tested.length).toBeGreaterThan(3);
    for (const r of skipped) expect(r.metrics.map((m) => m.test)).toEqual(['skipped']);
    for (const r of tested) expect(r.metrics.some((m) => m.test === 'ks')).toBe(true);
  });

  it('reports ADWIN change points per event, at the events where the detector fires', async () => {
    const temperature = nab('realKnownCause/machine_temperature_system_failure.csv');
    const reference = buildReferenceProfile(
      temperature.slice(0, 1000).map((r) => r.value),
      taxiFeatures,
    );
    const reports = await runDrift(temperature, {
      reference,
      features: taxiFeatures,
      window: tumbling(7 * DAY),
      detectors: { value: { value: (r) => r.value, method: 'adwin', delta: 0.002 } },
    });
    const points = reports.filter((r) => r.kind === 'change_point');
    const adwin = new Adwin({ delta: 0.002 });
    const expected = temperature.filter((r) => adwin.update(r.value.value)).map((r) => r.time);
    expect(expected.length).toBeGreaterThan(0);
    expect(points.map((p) => p.windowStart)).toEqual(expected);
    expect(points.every((p) => p.alerts[0]!.kind === 'change_point')).toBe(true);
    expect(reports.filter((r) => r.kind === 'window').length).toBeGreaterThan(5);
  });
});
