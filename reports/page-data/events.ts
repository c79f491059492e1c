/**
 * Events: each series of the events pipeline (averaged into at most MAX_POINTS buckets, so a long series stays a
 * small page), its drift alerts and drift tests from the latest run, NAB's labelled anomaly windows and the alerts'
 * precision/recall against them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NAB_WINDOWS_PATH, readNabWindows } from '../../streams/pipelines/nab-labels.ts';
import { canonicalRows, num } from './canonical.ts';
import type { PageExport } from './page.ts';
import { latestRunCondition, type Row } from './warehouse-reader.ts';

const PIPELINE = 'events';
/** Points drawn per series. */
export const MAX_POINTS = 1500;

/** A series (sorted by time) in at most `max` consecutive buckets of equal count: mean, min and max of each. */
export function downsample(points: { ts: number; value: number }[], max = MAX_POINTS): { ts: number; value: number; min: number; max: number }[] {
  const size = Math.max(1, Math.ceil(points.length / max));
  const out: { ts: number; value: number; min: number; max: number }[] = [];
  for (let i = 0; i < points.length; i += size) {
    const bucket = points.slice(i, i + size);
    const values = bucket.map((p) => p.value);
    out.push({ ts: bucket[0]!.ts, value: values.reduce((s, v) => s + v, 0) / values.length, min: Math.min(...values), max: Math.max(...values) });
  }
  return out;
}

/**
 * The series key of an events drift row: ids are `<run id>/<pipeline>/<model id>/<model version>/<key>/<window start>/…`
 * (operators/drift/drift-rows.ts); `details.key` says the same for drift_metrics.
 */
export function seriesOfDriftId(id: string, runId: string): string | null {
  if (!id.startsWith(`${runId}/`)) return null;
  return id.slice(runId.length + 1).split('/')[3] ?? null;
}

export const eventsPage: PageExport = {
  name: 'events',
  tables: ['events', 'drift_alerts', 'drift_metrics', 'anomaly_scores'],
  async export(reader, options) {
    const { run, where } = await latestRunCondition(reader, PIPELINE);
    const raw = await reader.rows(`SELECT key, ts, value FROM ${reader.from('events')}`);
    const byKey = new Map<string, { ts: number; value: number }[]>();
    for (const r of raw) byKey.set(String(r.key), [...(byKey.get(String(r.key)) ?? []), { ts: num(r.ts)!, value: num(r.value)! }]);
    const series: Row[] = [];
    for (const [key, points] of [...byKey].sort(([a], [b]) => (a < b ? -1 : 1))) {
      points.sort((a, b) => a.ts - b.ts);
      for (const p of downsample(points)) series.push({ key, ...p });
    }

    const alerts = (await reader.rows(`SELECT id, window_start, window_end, feature, kind, severity, message, event_time FROM ${reader.from('drift_alerts')} WHERE ${where}`)).map(({ id, ...a }) => ({
      key: seriesOfDriftId(String(id), run?.run_id ?? ''),
      ...a,
    }));
    const tests = (await reader.rows(`SELECT window_start, window_end, feature, kind, test, statistic, p_value, threshold, drifted, details FROM ${reader.from('drift_metrics')} WHERE ${where} AND kind = 'numeric'`)).map(({ details, ...m }) => ({
      key: (JSON.parse(String(details ?? '{}')) as { key?: string }).key ?? null,
      ...m,
    }));
    const scores = await reader.rows(`SELECT series, alerts, alerts_in_windows, labelled_windows, windows_detected, precision, recall FROM ${reader.from('anomaly_scores')} WHERE ${where}`);

    // Labelled windows: NAB's file under the data directory, for the series the warehouse holds.
    const windowsFile = options.dataDir ? join(options.dataDir, NAB_WINDOWS_PATH) : undefined;
    const windows: Row[] = [];
    if (windowsFile && existsSync(windowsFile)) {
      for (const [key, list] of readNabWindows(windowsFile)) if (byKey.has(key)) for (const w of list) windows.push({ key, start: w.start, end: w.end });
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
      },
    };
  },
};
