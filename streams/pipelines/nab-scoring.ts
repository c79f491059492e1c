/**
 * Scores a series' alerts against its labelled anomaly windows (NAB's `combined_windows.json`):
 *
 *   precision = alerts inside a window / alerts
 *   recall    = windows with at least one alert / windows   (as in NAB, only a window's first detection counts
 *                                                            towards recall; later ones in it add nothing)
 *
 * Window bounds are inclusive. Pure: the pipeline collects the alerts, this only counts.
 */
import { compositeId, type Row } from '../../connectors/warehouse/tables.ts';

/** A labelled anomaly window, epoch milliseconds, both ends inclusive. */
export interface LabelledWindow {
  start: number;
  end: number;
}

export interface SeriesScore {
  series: string;
  alerts: number;
  alertsInWindows: number;
  labelledWindows: number;
  windowsDetected: number;
  /** null without alerts (0/0). */
  precision: number | null;
  /** null without labelled windows. */
  recall: number | null;
}

export function scoreSeries(
  series: string,
  alertTimes: readonly number[],
  windows: readonly LabelledWindow[],
): SeriesScore {
  const detected = new Set<number>();
  let inside = 0;
  for (const t of alertTimes) {
    const w = windows.findIndex((x) => x.start <= t && t <= x.end);
    if (w < 0) continue;
    inside++;
    detected.add(w);
  }
  return {
    series,
    alerts: alertTimes.length,
    alertsInWindows: inside,
    labelledWindows: windows.length,
    windowsDetected: detected.size,
    precision: alertTimes.length > 0 ? inside / alertTimes.length : null,
    recall: windows.length > 0 ? detected.size / windows.length : null,
  };
}

const ratio = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));

/**
 * One line for people: `nyc_taxi: 3 alerts, 3 inside labelled windows — precision 1.000, recall 0.600 (3 of 5
 * windows)`.
 */
export const formatScore = (s: SeriesScore) =>
  `${s.series}: ${s.alerts} alerts, ${s.alertsInWindows} inside labelled windows — ` +
  `precision ${ratio(s.precision)}, recall ${ratio(s.recall)} (${s.windowsDetected} of ${s.labelledWindows} windows)`;

/** The `anomaly_scores` row. `version` is the series' last event time, so a run over more data replaces it. */
export const anomalyScoreRow = (score: SeriesScore, runId: string, pipeline: string, lastEventTime: number): Row => ({
  id: compositeId(runId, pipeline, score.series),
  version: lastEventTime,
  run_id: runId,
  pipeline,
  series: score.series,
  alerts: score.alerts,
  alerts_in_windows: score.alertsInWindows,
  labelled_windows: score.labelledWindows,
  windows_detected: score.windowsDetected,
  precision: score.precision,
  recall: score.recall,
});
