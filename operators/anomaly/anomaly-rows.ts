/**
 * Warehouse rows for anomaly scores: `event_anomaly_scores` (every scored record) and `anomaly_alerts` (those at or
 * above the threshold). Ids are pipeline/source/key/time/value, set by the input alone (not the run), so a replay or
 * a redelivered record replaces its own rows; two readings of one series at one time with different values keep one
 * row each, as in `events`.
 */
import { compositeId, type Row } from '../../schemas/warehouse-row.ts';
import type { Event } from '../../schemas/event.ts';
import { logScale } from './anomaly-likelihood.ts';
import type { AnomalySignals } from './series-detector.ts';

/** Alert threshold on the score: the standard-profile optimum on NAB (bench/nab-events.bench.ts). */
export const DEFAULT_ALERT_THRESHOLD = 0.45;

/** Which signals reached the threshold, e.g. `novelty+change`. */
export function alertReason(a: AnomalySignals, threshold: number): string {
  const signals = [logScale(a.likelihood) >= threshold && 'likelihood', a.novelty && 'novelty', a.change && 'change'];
  const fired = signals.filter(Boolean);
  return fired.length > 0 ? fired.join('+') : 'score';
}

const idOf = (pipeline: string, e: Event) => compositeId(pipeline, e.source, e.key, e.ts, e.value);

export function anomalyScoreRow(e: Event, a: AnomalySignals, threshold: number, pipeline: string, runId: string): Row {
  return {
    id: idOf(pipeline, e),
    version: 0,
    run_id: runId,
    pipeline,
    source: e.source,
    key: e.key,
    ts: e.ts,
    value: e.value,
    score: a.score,
    z_score: a.zScore,
    likelihood: a.likelihood,
    novelty: a.novelty ? 1 : 0,
    change: a.change ? 1 : 0,
    alert: a.score >= threshold ? 1 : 0,
    threshold,
  };
}

/** The `anomaly_alerts` row of a record at or above the threshold; none below it. */
export function anomalyAlertRows(
  e: Event,
  a: AnomalySignals,
  threshold: number,
  pipeline: string,
  runId: string,
): Row[] {
  if (a.score < threshold) return [];
  const { source, key, ts, value } = e;
  const reason = alertReason(a, threshold);
  return [
    {
      id: idOf(pipeline, e),
      version: 0,
      run_id: runId,
      pipeline,
      source,
      key,
      ts,
      value,
      score: a.score,
      threshold,
      reason,
    },
  ];
}
