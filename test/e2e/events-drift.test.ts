import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { dataDir, dataFile } from '../data-dir.ts';
import { uniqueName } from '../kafka/kafka-test-helpers.ts';
import { driftlineOk } from './cli.ts';

const SERIES = ['nyc_taxi', 'machine_temperature_system_failure'];
const csv = (series: string) => dataFile('events', 'nab', 'data', 'realKnownCause', `${series}.csv`);
const dir = mkdtempSync(join(tmpdir(), 'driftline-events-drift-'));

/** The labelled windows straight from NAB's file, independently of the pipeline's reader. */
const labelled = JSON.parse(
  readFileSync(dataFile('events', 'nab', 'labels', 'combined_windows.json'), 'utf8'),
) as Record<string, [string, string][]>;
const windowsOf = (series: string) =>
  labelled[`realKnownCause/${series}.csv`]!.map(
    ([s, e]) => [Date.parse(`${s.replace(' ', 'T')}Z`), Date.parse(`${e.replace(' ', 'T')}Z`)] as const,
  );

/** Embedded warehouse and log in a home of their own. */
const embedded = (home: string, data: string = dataDir()) => ({
  DRIFTLINE_HOME: home,
  CLICKHOUSE_URL: '',
  KAFKA_BROKERS: '',
  DRIFTLINE_DATA_DIR: data,
});

async function query(home: string, sql: string): Promise<Record<string, unknown>[]> {
  const warehouse = await openWarehouse({ home });
  try {
    return await warehouse.query(sql);
  } finally {
    await warehouse.close();
  }
}

interface Run {
  runId: string;
  output: string;
  scores: Record<string, unknown>[];
  /** Alerts and metrics with the run id taken out of their ids, to compare runs. */
  alerts: Record<string, unknown>[];
  metrics: Record<string, unknown>[];
}

async function runEvents(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const output = await driftlineOk(['run', 'events', ...args, '--until-idle'], env);
  const runId = /run (\S+) done/.exec(output)![1]!;
  const home = env.DRIFTLINE_HOME!;
  const withoutRun = (rows: Record<string, unknown>[]) =>
    rows.map((r) => ({ ...r, id: String(r.id).replace(runId, '<run>'), run_id: undefined }));
  return {
    runId,
    output,
    scores: await query(home, `SELECT * FROM anomaly_scores WHERE run_id = '${runId}' ORDER BY series`),
    alerts: withoutRun(await query(home, `SELECT * FROM drift_alerts WHERE run_id = '${runId}' ORDER BY id`)),
    metrics: withoutRun(await query(home, `SELECT * FROM drift_metrics WHERE run_id = '${runId}' ORDER BY id`)),
  };
}

/** A series' alert times, told apart by the key in their ids (`<run>/events/<model>/<version>/<series>/…`). */
const alertTimes = (run: Run, series: string) =>
  run.alerts.filter((a) => String(a.id).startsWith(`<run>/events///${series}/`)).map((a) => Number(a.event_time));

const fileRuns = new Map<string, Run>();

describe('driftline run events: drift and change points on NAB series, scored against labelled anomaly windows', () => {
  for (const series of SERIES) {
    it(`${series}: lands drift metrics and alerts, and counts the alerts inside labelled windows`, async () => {
      const run = await runEvents(['--input', csv(series)], embedded(join(dir, series)));
      fileRuns.set(series, run);
      expect(run.metrics.length).toBeGreaterThan(10);
      const times = alertTimes(run, series);
      expect(times.length).toBeGreaterThan(0);
      expect(times).toHaveLength(run.alerts.length); // one series, all its alerts

      // Brute force: every alert against every labelled window.
      const windows = windowsOf(series);
      const inside = times.filter((t) => windows.some(([s, e]) => s <= t && t <= e)).length;
      const detected = windows.filter(([s, e]) => times.some((t) => s <= t && t <= e)).length;
      expect(run.scores).toHaveLength(1);
      const [score] = run.scores as [Record<string, unknown>];
      expect({
        ...score,
        alerts: Number(score.alerts),
        alerts_in_windows: Number(score.alerts_in_windows),
        labelled_windows: Number(score.labelled_windows),
        windows_detected: Number(score.windows_detected),
      }).toMatchObject({
        id: `${run.runId}/events/${series}`,
        series,
        alerts: times.length,
        alerts_in_windows: inside,
        labelled_windows: windows.length,
        windows_detected: detected,
        precision: inside / times.length,
        recall: detected / windows.length,
      });
      expect(run.output).toContain(`events: ${series}: ${times.length} alerts, ${inside} inside labelled windows`);
      console.log(
        `${series}: ${times.length} alerts, ${inside} inside labelled windows: ` +
          `precision ${(inside / times.length).toFixed(3)}, recall ${(detected / windows.length).toFixed(3)} ` +
          `(${detected} of ${windows.length} windows)`,
      );
    }, 120_000);
  }

  it('gives each series the same rows when both run together from a directory', async () => {
    const input = join(dir, 'both');
    mkdirSync(input);
    for (const series of SERIES) copyFileSync(csv(series), join(input, `${series}.csv`));
    const run = await runEvents(['--input', input], embedded(join(dir, 'both-home')));
    const single = SERIES.map((s) => fileRuns.get(s)!);
    expect(single.every(Boolean)).toBe(true);
    expect(run.alerts).toEqual(single.flatMap((r) => r.alerts).sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1)));
    expect(run.metrics.length).toBe(single.reduce((n, r) => n + r.metrics.length, 0));
    const strip = (rows: Record<string, unknown>[]): Record<string, unknown>[] =>
      rows.map((r) => ({ ...r, id: undefined, run_id: undefined }));
    expect(strip(run.scores)).toEqual(
      strip(single.flatMap((r) => r.scores)).sort((a, b) => (String(a.series) < String(b.series) ? -1 : 1)),
    );
  }, 120_000);

  it('reads the series from its Kafka topic with the same alerts as from the file', async () => {
    const env = {
      ...embedded(join(dir, 'kafka')),
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      DRIFTLINE_TOPIC_PREFIX: `${uniqueName('events-drift')}.`,
    };
    await driftlineOk(['produce', 'events', csv('nyc_taxi')], env);
    const run = await runEvents([], env);
    expect(run.output).toContain(`kafka topic ${env.DRIFTLINE_TOPIC_PREFIX}events`);
    expect(run.alerts.length).toBeGreaterThan(0);
    expect(run.alerts).toEqual(fileRuns.get('nyc_taxi')!.alerts);
    expect(run.scores.map((s) => s.alerts_in_windows)).toEqual(
      fileRuns.get('nyc_taxi')!.scores.map((s) => s.alerts_in_windows),
    );
  }, 120_000);

  it('still runs, without scores, when no labels can be found', async () => {
    const input = join(dir, 'nyc_taxi_head.csv');
    writeFileSync(input, readFileSync(csv('nyc_taxi'), 'utf8').split('\n').slice(0, 3001).join('\n'));
    const run = await runEvents(['--input', input], embedded(join(dir, 'no-labels'), ''));
    expect(run.output).toContain('alerts are not scored, anomaly_scores stays empty');
    expect(run.metrics.length).toBeGreaterThan(0);
    expect(run.scores).toEqual([]);
  }, 120_000);
});
