import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DriftAlert, DriftReport } from '../../operators/drift/drift-report.ts';
import { dataFile } from '../../test/data-dir.ts';
import type { StreamRecord } from '../kernel/record.ts';
import type { Batch, StageOutput } from '../kernel/stage.ts';
import { NAB_WINDOWS_PATH, nabWindowsFile, readNabWindows } from './nab-labels.ts';
import { type ScoredSeries, nabScores } from './nab-score-stage.ts';
import { anomalyScoreRow, scoreSeries } from './nab-scoring.ts';

const windows = [
  { start: 100, end: 200 },
  { start: 500, end: 600 },
  { start: 900, end: 950 },
];

describe('scoring alerts against labelled windows', () => {
  it('counts alerts inside windows (bounds included) for precision, and each window once for recall', () => {
    const score = scoreSeries('s', [99, 100, 150, 200, 201, 550, 700], windows);
    expect(score).toEqual({
      series: 's',
      alerts: 7,
      alertsInWindows: 4,
      labelledWindows: 3,
      windowsDetected: 2,
      precision: 4 / 7,
      recall: 2 / 3,
    });
  });

  it('has no precision without alerts and no recall without windows', () => {
    expect(scoreSeries('s', [], windows)).toMatchObject({ alerts: 0, precision: null, recall: 0 });
    expect(scoreSeries('s', [1, 2], [])).toMatchObject({ alertsInWindows: 0, precision: 0, recall: null });
  });

  it('makes the anomaly_scores row with the run id in its id', () => {
    const row = anomalyScoreRow(scoreSeries('nyc_taxi', [150, 700], windows), 'run-1', 'events', 1234);
    expect(row).toEqual({
      id: 'run-1/events/nyc_taxi',
      version: 1234,
      run_id: 'run-1',
      pipeline: 'events',
      series: 'nyc_taxi',
      alerts: 2,
      alerts_in_windows: 1,
      labelled_windows: 3,
      windows_detected: 1,
      precision: 0.5,
      recall: 1 / 3,
    });
  });
});

describe("NAB's labelled windows", () => {
  it('reads combined_windows.json keyed by series name, timestamps as UTC', () => {
    const labels = readNabWindows(dataFile(NAB_WINDOWS_PATH));
    expect(labels.size).toBe(58);
    const taxi = labels.get('nyc_taxi')!;
    expect(taxi).toHaveLength(5);
    expect(taxi[0]).toEqual({ start: Date.UTC(2014, 9, 30, 15, 30), end: Date.UTC(2014, 10, 3, 22, 30) });
    expect(labels.get('machine_temperature_system_failure')).toHaveLength(4);
  });

  it('finds the file from the labelsFile option or the data directory, and says when it is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nab-labels-'));
    expect(nabWindowsFile({}, undefined)).toBeUndefined();
    expect(nabWindowsFile({}, dir)).toBeUndefined();
    expect(nabWindowsFile({}, dataFile())).toBe(dataFile(NAB_WINDOWS_PATH));
    const own = join(dir, 'windows.json');
    writeFileSync(own, JSON.stringify({ 'x/a.csv': [['2020-01-01 00:00:00.000000', '2020-01-02 00:00:00.000000']] }));
    expect(nabWindowsFile({ labelsFile: own }, dataFile())).toBe(own);
    expect(readNabWindows(own)).toEqual(new Map([['a', [{ start: Date.UTC(2020, 0, 1), end: Date.UTC(2020, 0, 2) }]]]));
    expect(() => nabWindowsFile({ labelsFile: join(dir, 'nope.json') }, undefined)).toThrow('does not exist');
    writeFileSync(own, JSON.stringify({ 'x/a.csv': [['2020-01-01', 'soon']] }));
    expect(() => readNabWindows(own)).toThrow('not [start, end]');
  });
});

describe('the scoring stage', () => {
  const alert = (eventTime: number): DriftAlert => ({
    feature: 'z_score',
    kind: 'change_point',
    severity: 'minor',
    message: '',
    eventTime,
  });
  const report = (key: string | null, time: number, alerts: DriftAlert[]): StreamRecord<DriftReport> => ({
    key,
    value: {
      kind: 'change_point',
      pipeline: 'events',
      modelId: '',
      modelVersion: '',
      key,
      windowStart: time,
      windowEnd: time,
      count: 1,
      referenceRows: 0,
      metrics: [],
      keywords: [],
      alerts,
      datasetDrift: false,
    },
    eventTime: time,
    headers: {},
    position: { topic: 't', partition: 0, offset: time },
  });
  const collect = () => {
    const emitted: Batch<ScoredSeries>[] = [];
    const out: StageOutput<ScoredSeries> = { emit: (b) => emitted.push(b), emitSide: () => {}, deadLetter: () => {} };
    return { emitted, out };
  };

  it('scores each labelled series once, at end of input, counting a redelivered alert once', async () => {
    const stage = nabScores(
      'scores',
      new Map([
        ['a', windows],
        ['b', windows],
      ]),
    );
    const { emitted, out } = collect();
    const batch = [
      report('a', 150, [alert(150)]),
      report('a', 700, [alert(700)]),
      report('unlabelled', 150, [alert(150)]),
      report('b', 960, []),
    ];
    await stage.onBatch({ records: batch, tokens: [] }, out);
    await stage.onBatch({ records: [report('a', 150, [alert(150)])], tokens: [] }, out); // redelivered
    expect(emitted).toEqual([]);
    await stage.onEnd!(out);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]!.records.map((r) => r.value)).toEqual([
      { ...scoreSeries('a', [150, 700], windows), lastEventTime: 700 },
      { ...scoreSeries('b', [], windows), lastEventTime: 960 },
    ]);
  });
});
