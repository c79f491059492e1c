/**
 * Events: each series of the events pipeline (averaged into at most MAX_POINTS buckets, so a long series stays a
 * small page), its drift alerts and drift tests from the latest run, NAB's labelled anomaly windows and the alerts'
 * precision/recall against them; each series' anomaly score over time (the bucket's highest) with its alerts, and
 * the NAB scores of the stored anomaly scores beside the baselines recomputed from the same stored values.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readNabProfiles } from '../../streams/pipelines/nab-corpus.ts';
import { NAB_WINDOWS_PATH, readNabWindows } from '../../streams/pipelines/nab-labels.ts';
import { nabRunScores, type StoredSeries } from '../../streams/pipelines/nab-run-scores.ts';
import type { LabelledWindow } from '../../streams/pipelines/nab-scoring.ts';
import { canonicalRows, num } from './canonical.ts';
import type { PageExport } from './page.ts';
import {
  latestRunCondition,
  type Row,
  sqlString,
  type WarehouseReader,
} from '../../connectors/warehouse/warehouse-reader.ts';

const PIPELINE = 'events';
/** Points drawn per series. */
export const MAX_POINTS = 1500;

/** A series (sorted by time) in at most `max` consecutive buckets of equal count: mean, min and max of each. */
export function downsample(
  points: { ts: number; value: number }[],
  max = MAX_POINTS,
): { ts: number; value: number; min: number; max: number }[] {
  const size = Math.max(1, Math.ceil(points.length / max));
  const out: { ts: number; value: number; min: number; max: number }[] = [];
  for (let i = 0; i < points.length; i += size) {
    const bucket = points.slice(i, i + size);
    const values = bucket.map((p) => p.value);
    out.push({
      ts: bucket[0]!.ts,
      value: values.reduce((s, v) => s + v, 0) / values.length,
      min: Math.min(...values),
      max: Math.max(...values),
    });
  }
  return out;
}

/** Like `downsample`, keeping each bucket's highest anomaly score and whether it holds an alert. */
type ScorePoint = { ts: number; score: number; alert: number };
export function downsampleMax(points: ScorePoint[], max = MAX_POINTS): ScorePoint[] {
  const size = Math.max(1, Math.ceil(points.length / max));
  const out: ScorePoint[] = [];
  for (let i = 0; i < points.length; i += size) {
    const bucket = points.slice(i, i + size);
    out.push({
      ts: bucket[0]!.ts,
      score: Math.max(...bucket.map((p) => p.score)),
      alert: Math.max(...bucket.map((p) => p.alert)),
    });
  }
  return out;
}

/** The stored per-record anomaly scores of the events pipeline, per series in record order. */
async function storedSeries(reader: WarehouseReader): Promise<StoredSeries[]> {
  const table = reader.from('event_anomaly_scores');
  const rows = await reader.rows(
    `SELECT key, ts, value, score, alert FROM ${table} WHERE pipeline = ${sqlString(PIPELINE)}`,
  );
  const byKey = new Map<string, StoredSeries>();
  const byTime = (a: Row, b: Row) => num(a.ts)! - num(b.ts)! || num(a.value)! - num(b.value)!;
  rows.sort((a, b) => (String(a.key) < String(b.key) ? -1 : String(a.key) > String(b.key) ? 1 : byTime(a, b)));
  for (const r of rows) {
    const key = String(r.key);
    let s = byKey.get(key);
    if (!s) {
      s = { key, timestamps: [], values: [], scores: [], alerts: [] };
      byKey.set(key, s);
    }
    s.timestamps.push(num(r.ts)!);
    s.values.push(num(r.value)!);
    s.scores.push(num(r.score)!);
    s.alerts.push(num(r.alert)!);
  }
  return [...byKey.values()];
}

/** NAB scores of the stored scores and the baselines, when NAB's labels and profiles are under the data directory. */
function nabScores(
  stored: StoredSeries[],
  labels: Map<string, LabelledWindow[]> | undefined,
  windowsFile?: string,
): Row[] {
  const nabDir = windowsFile ? dirname(dirname(windowsFile)) : undefined; // …/events/nab/labels/combined_windows.json
  if (!labels || !nabDir || !existsSync(join(nabDir, 'profiles.json'))) return [];
  const rows = nabRunScores(stored, labels, readNabProfiles(nabDir));
  return rows.map((r) => ({ ...r, threshold: Number.isFinite(r.threshold) ? r.threshold : null })); // JSON has no ∞
}

/**
 * The series key of an events drift row: ids are `<run id>/<pipeline>/<model id>/<model version>/<key>/<window
 * start>/…` (operators/drift/drift-rows.ts); `details.key` says the same for drift_metrics.
 */
export function seriesOfDriftId(id: string, runId: string): string | null {
  if (!id.startsWith(`${runId}/`)) return null;
  return id.slice(runId.length + 1).split('/')[3] ?? null;
}

export const eventsPage: PageExport = {
  name: 'events',
  tables: ['events', 'drift_alerts', 'drift_metrics', 'anomaly_scores', 'event_anomaly_scores'],
  async export(reader, options) {
    const { run, where } = await latestRunCondition(reader, PIPELINE);
    const raw = await reader.rows(`SELECT key, ts, value FROM ${reader.from('events')}`);
    const byKey = new Map<string, { ts: number; value: number }[]>();
    for (const r of raw)
      byKey.set(String(r.key), [...(byKey.get(String(r.key)) ?? []), { ts: num(r.ts)!, value: num(r.value)! }]);
    const series: Row[] = [];
    for (const [key, points] of [...byKey].sort(([a], [b]) => (a < b ? -1 : 1))) {
      points.sort((a, b) => a.ts - b.ts);
      for (const p of downsample(points)) series.push({ key, ...p });
    }

    const alerts = (
      await reader.rows(
        `SELECT id, window_start, window_end, feature, kind, severity, message, event_time ` +
          `FROM ${reader.from('drift_alerts')} WHERE ${where}`,
      )
    ).map(({ id, ...a }) => ({
      key: seriesOfDriftId(String(id), run?.run_id ?? ''),
      ...a,
    }));
    const tests = (
      await reader.rows(
        `SELECT window_start, window_end, feature, kind, test, statistic, p_value, threshold, drifted, details ` +
          `FROM ${reader.from('drift_metrics')} WHERE ${where} AND kind = 'numeric'`,
      )
    ).map(({ details, ...m }) => ({
      key: (JSON.parse(String(details ?? '{}')) as { key?: string }).key ?? null,
      ...m,
    }));
    const scores = await reader.rows(
      `SELECT series, alerts, alerts_in_windows, labelled_windows, windows_detected, precision, recall ` +
        `FROM ${reader.from('anomaly_scores')} WHERE ${where}`,
    );

    // Labelled windows: NAB's file under the data directory, for the series the warehouse holds.
    const windowsFile = options.dataDir ? join(options.dataDir, NAB_WINDOWS_PATH) : undefined;
    const windows: Row[] = [];
    const labels = windowsFile && existsSync(windowsFile) ? readNabWindows(windowsFile) : undefined;
    for (const [key, list] of labels ?? [])
      if (byKey.has(key)) for (const w of list) windows.push({ key, start: w.start, end: w.end });
    const stored = await storedSeries(reader);
    const anomaly: Row[] = [];
    for (const s of stored) {
      const points = s.timestamps.map((ts, i) => ({ ts, score: s.scores[i]!, alert: s.alerts[i]! }));
      for (const p of downsampleMax(points)) anomaly.push({ key: s.key, ...p });
    }
    return {
      runs: run ? [run] : [],
      data: {
        series: canonicalRows(series, ['key', 'ts']),
        alerts: canonicalRows(alerts, ['key', 'window_start', 'feature', 'kind']),
        tests: canonicalRows(tests, ['key', 'window_start', 'feature', 'test']),
        labelled_windows: canonicalRows(windows, ['key', 'start']),
        labelled_windows_source: windowsFile && existsSync(windowsFile) ? NAB_WINDOWS_PATH : null,
        scores: canonicalRows(scores, ['series']),
        anomaly: canonicalRows(anomaly, ['key', 'ts']),
        anomaly_alerts: stored.reduce((n, s) => n + s.alerts.reduce((a, b) => a + b, 0), 0),
        nab_scores: nabScores(stored, labels, windowsFile),
      },
    };
  },
};
