/**
 * Warehouse rows for drift reports: `drift_metrics` (one per test), `drift_alerts`, `keyword_skew`. Ids start with the
 * run id, so a replay and a live run of the same windows sit side by side; versions derive from event time, so
 * replaying the same input gives identical rows apart from the run id.
 */
import { compositeId, type Row } from '../../schemas/warehouse-row.ts';
import type { DriftReport } from './drift-report.ts';

const windowId = (runId: string, r: DriftReport) =>
  compositeId(runId, r.pipeline, r.modelId, r.modelVersion, r.key ?? '', r.windowStart);

/** The columns every drift table shares: which run, pipeline, reference model and window a row is about. */
const windowColumns = (report: DriftReport, runId: string) => ({
  run_id: runId,
  pipeline: report.pipeline,
  model_id: report.modelId,
  model_version: report.modelVersion,
  window_start: report.windowStart,
  window_end: report.windowEnd,
});

export function driftMetricRows(report: DriftReport, runId: string): Row[] {
  return report.metrics.map((m) => ({
    id: compositeId(windowId(runId, report), m.feature, m.test),
    version: report.windowEnd,
    ...windowColumns(report, runId),
    window_count: report.count,
    reference_count: report.referenceRows,
    feature: m.feature,
    kind: m.kind,
    test: m.test,
    statistic: m.statistic,
    p_value: m.pValue,
    threshold: m.threshold,
    drifted: m.drifted ? 1 : 0,
    details: JSON.stringify(report.key === null ? m.details : { key: report.key, ...m.details }),
  }));
}

export function driftAlertRows(report: DriftReport, runId: string): Row[] {
  return report.alerts.map((a) => ({
    id: compositeId(windowId(runId, report), a.feature, a.kind),
    version: a.eventTime,
    ...windowColumns(report, runId),
    feature: a.feature,
    kind: a.kind,
    severity: a.severity,
    message: a.message,
    event_time: a.eventTime,
  }));
}

export function keywordSkewRows(report: DriftReport, runId: string): Row[] {
  return report.keywords.map((k) => ({
    id: compositeId(windowId(runId, report), k.direction, k.term),
    version: report.windowEnd,
    ...windowColumns(report, runId),
    term: k.term,
    direction: k.direction,
    rank: k.rank,
    reference_share: k.referenceShare,
    window_share: k.windowShare,
    log_ratio: k.logRatio,
  }));
}
