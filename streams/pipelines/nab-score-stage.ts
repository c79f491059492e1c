/**
 * Collects each series' drift alerts and, at end of input (`--until-idle`, replay), scores them against the
 * series' labelled anomaly windows: one SeriesScore per labelled series seen. A live run never ends, so it writes
 * no scores. Series without labels are not scored.
 */
import type { DriftReport } from '../../operators/drift/drift-report.ts';
import { type StreamRecord, withValue } from '../kernel/record.ts';
import type { Stage } from '../kernel/stage.ts';
import { statefulStage } from '../kernel/stateful.ts';
import { type LabelledWindow, type SeriesScore, scoreSeries } from './nab-scoring.ts';

export interface ScoredSeries extends SeriesScore {
  /** The series' newest event time seen: the score row's version. */
  lastEventTime: number;
}

interface SeriesAlerts {
  /** Alert identity → its event time; a redelivered report replaces its own alerts instead of adding to them. */
  alerts: Map<string, number>;
  lastEventTime: number;
  last: StreamRecord<DriftReport>;
}

/** `onScore` hears each score as it is emitted (e.g. to print it). */
export function nabScores(
  name: string,
  labels: ReadonlyMap<string, LabelledWindow[]>,
  onScore?: (score: ScoredSeries) => void,
): Stage<DriftReport, ScoredSeries> {
  const series = new Map<string, SeriesAlerts>();
  return statefulStage<DriftReport, ScoredSeries>(name, {
    // Nothing is emitted before the end: the scores are a summary, not part of any batch's at-least-once delivery.
    onBatch(records) {
      for (const record of records) {
        const report = record.value;
        if (report.key === null || !labels.has(report.key)) continue;
        let s = series.get(report.key);
        if (!s) {
          s = { alerts: new Map(), lastEventTime: record.eventTime, last: record };
          series.set(report.key, s);
        }
        s.lastEventTime = Math.max(s.lastEventTime, record.eventTime);
        s.last = record;
        for (const a of report.alerts)
          s.alerts.set(`${report.windowStart}/${a.feature}/${a.kind}/${a.eventTime}`, a.eventTime);
      }
    },
    onEof(ctx) {
      const records = [...series]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, s]) =>
          withValue(s.last, {
            ...scoreSeries(key, [...s.alerts.values()], labels.get(key)!),
            lastEventTime: s.lastEventTime,
          }),
        );
      for (const r of records) onScore?.(r.value);
      ctx.emit(records);
    },
  });
}
