import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeJson } from '../../streams/kernel/operators/basic/decode-json.ts';
import { Pipeline } from '../../streams/kernel/pipeline.ts';
import type { StreamRecord } from '../../streams/kernel/record.ts';
import { runPipeline } from '../../streams/kernel/runner.ts';
import { ArraySink } from '../../streams/kernel/memory/array-sink.ts';
import { MemoryTransport } from '../../streams/kernel/memory/memory-log.ts';
import { topicSource } from '../../streams/kernel/transport/topic-source.ts';
import { openWarehouse } from '../warehouse/warehouse.ts';
import { PrometheusExporter } from './prometheus-exporter.ts';

/** Prometheus text format → { name, labels, value } samples, and the declared type of each metric family. */
function parse(text: string) {
  const types = new Map<string, string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample || line.startsWith('#')) continue;
    const pairs = [...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)];
    const labels = Object.fromEntries(pairs.map((m) => [m[1]!, m[2]!]));
    samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  return { types, samples };
}

const find = (samples: ReturnType<typeof parse>['samples'], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

const home = mkdtempSync(join(tmpdir(), 'driftline-metrics-'));
const warehouse = await openWarehouse({ home });
afterAll(() => warehouse.close());

const GOOD = 300;
const BAD = ['{"n": 1', 'not json', '{"n": 2'];
const LOG_END = 10_000; // per partition, as a log-ends lookup would say: lag = LOG_END - position

const record = <T>(value: T, i: number): StreamRecord<T> => ({
  key: null,
  value,
  eventTime: i,
  headers: {},
  position: { topic: 't', partition: 0, offset: i },
});
const predictionRow = (i: number, version: string) => ({
  ...{ id: `r${i}/m/${version}`, version: 1, record_id: `r${i}`, model_id: 'm', model_version: version, label: 1 },
  ...{ probabilities: [0.2, 0.8], confidence: 0.8, latency_ms: 1, predicted_at: 0 },
});
const alertRow = (i: number, kind: string) => ({
  ...{ id: `a${i}`, version: 1, run_id: 'r', pipeline: 'p', model_id: 'm', model_version: 'v1', window_start: 0 },
  ...{ window_end: 1, feature: 'f', kind, severity: 'major', message: '', event_time: 0 },
});
const windowRow = (start: number, rate: number) => ({
  ...{ id: `w${start}`, version: 1, run_id: 'r', pipeline: 'p', window_start: start, window_end: start + 1 },
  ...{ predictions: 10, confident: 5, accepted: rate * 10, rejected_class_cap: 0, rejected_drift_pause: 0 },
  ...{ rejected_own_model: 0, accept_rate: rate, alarm: 0, paused: 0 },
});

describe('Prometheus exporter', () => {
  const exporter = new PrometheusExporter('metrics-test');

  it('exports stage counters, dead letters by reason, histograms and lag per partition of a real run', async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopic('in', 2);
    const producer = await transport.producer();
    const good = Array.from({ length: GOOD }, (_, n) => JSON.stringify({ n }));
    const values = [...good, ...BAD].map((v) => Buffer.from(v));
    await producer.send(
      'in',
      values.map((value, i) => ({ key: `k${i}`, value, timestamp: 1_000 + i })),
    );
    const p = new Pipeline('metrics-test');
    p.from(topicSource(transport, { topic: 'in', group: 'g', maxBatchRecords: 50 }))
      .through(decodeJson<{ n: number }>('decode'))
      .to(new ArraySink('numbers'));
    const logEnds = async () => [0, 1].map((partition) => ({ topic: 'in', partition, offset: LOG_END }));
    await runPipeline(p, { untilIdle: true, onStart: exporter.onStart, logEnds, lagSampleMs: 10 });

    const { types, samples } = parse(await exporter.registry.metrics());
    expect(types.get('driftline_records_processed_total')).toBe('counter');
    const processed = find(samples, 'driftline_records_processed_total', { pipeline: 'metrics-test' });
    expect(processed[0]?.value).toBe(GOOD + BAD.length);
    const decode = { pipeline: 'metrics-test', stage: 'decode', kind: 'stage' };
    expect(find(samples, 'driftline_stage_records_in_total', decode)[0]?.value).toBe(GOOD + BAD.length);
    expect(find(samples, 'driftline_stage_records_out_total', decode)[0]?.value).toBe(GOOD);
    expect(find(samples, 'driftline_stage_records_out_total', { stage: 'numbers', kind: 'sink' })[0]?.value).toBe(GOOD);
    const dead = find(samples, 'driftline_dead_letters_total', { stage: 'decode' });
    expect(dead.reduce((sum, s) => sum + s.value, 0)).toBe(BAD.length);
    expect(dead.every((s) => s.labels.reason!.length > 0)).toBe(true);
    expect(types.get('driftline_stage_queue_depth')).toBe('gauge');
    expect(find(samples, 'driftline_stage_queue_depth', { stage: 'decode' })).toHaveLength(1);

    // Histograms in seconds: cumulative buckets, +Inf = count, one series set per node.
    expect(types.get('driftline_stage_batch_duration_seconds')).toBe('histogram');
    const buckets = find(samples, 'driftline_stage_batch_duration_seconds_bucket', decode);
    expect(buckets.length).toBeGreaterThan(10);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    const count = find(samples, 'driftline_stage_batch_duration_seconds_count', decode)[0]!.value;
    expect(count).toBeGreaterThan(0);
    expect(buckets.at(-1)).toMatchObject({ labels: { le: '+Inf' }, value: count });
    const e2e = find(samples, 'driftline_end_to_end_latency_seconds_count', { pipeline: 'metrics-test' })[0]!.value;
    expect(e2e).toBe(GOOD + BAD.length); // every record read was acknowledged (stored or dead-lettered)

    const lag = find(samples, 'driftline_consumer_lag_records', { topic: 'in' });
    expect(lag.map((s) => s.labels.partition).sort()).toEqual(['0', '1']);
    expect(lag.reduce((sum, s) => sum + s.value, 0)).toBe(2 * LOG_END - GOOD - BAD.length);
  });

  it('exports rows, rejections and the ML figures of what warehouse sinks stored', async () => {
    const observed = exporter.observe(warehouse);
    await observed.ensureTables(['predictions', 'drift_alerts', 'pseudo_label_windows']);
    const rejected: string[] = [];
    const predictions = observed.sink<number>('predictions', (r) =>
      r.value < 0 ? { id: 'bad', label: 'not a number' } : predictionRow(r.value, r.value < 5 ? 'v1' : 'v2'),
    );
    await predictions.write([0, 1, 2, 3, 4, 5, 6, -1].map(record), (_, reason) => rejected.push(reason));
    const alerts = observed.sink<string>('drift_alerts', (r) => alertRow(r.position.offset, r.value));
    await alerts.write(['dataset_drift', 'feature_drift', 'feature_drift'].map(record));
    const windows = observed.sink<number>('pseudo_label_windows', (r) => windowRow(r.value, r.value === 2 ? 0.3 : 0.9));
    await windows.write([1, 2].map(record));

    const { types, samples } = parse(await exporter.registry.metrics());
    expect(rejected).toHaveLength(1);
    expect(find(samples, 'driftline_sink_rows_total', { table: 'predictions' })[0]?.value).toBe(7);
    expect(find(samples, 'driftline_sink_rejected_rows_total', { table: 'predictions' })[0]?.value).toBe(1);
    expect(find(samples, 'driftline_predictions_total', { model: 'm', version: 'v1' })[0]?.value).toBe(5);
    expect(find(samples, 'driftline_predictions_total', { model: 'm', version: 'v2' })[0]?.value).toBe(2);
    expect(
      find(samples, 'driftline_model_version_in_use')
        .map((s) => s.labels.version)
        .sort(),
    ).toEqual(['v1', 'v2']);
    expect(types.get('driftline_drift_alerts_total')).toBe('counter');
    const featureDrift = find(samples, 'driftline_drift_alerts_total', { kind: 'feature_drift', severity: 'major' });
    expect(featureDrift[0]?.value).toBe(2);
    expect(find(samples, 'driftline_drift_alerts_total', { kind: 'dataset_drift' })[0]?.value).toBe(1);
    // The latest window's rate, whatever order the windows came in.
    expect(find(samples, 'driftline_pseudo_label_accept_rate', { pipeline: 'metrics-test' })[0]?.value).toBe(0.3);
    expect(Number((await warehouse.query('SELECT count(*) AS n FROM predictions'))[0]!.n)).toBe(7);
  });
});
