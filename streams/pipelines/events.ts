import { isEventFile, parseEventTime, readEventFiles } from '../../connectors/files/event-files.ts';
import { compositeId, type Row } from '../../connectors/warehouse/tables.ts';
import { jsonBytes, topicSink } from '../kernel/transport/topic-sink.ts';
import {
  anomalyAlertRows,
  anomalyScoreRow as anomalyRecordRow,
  DEFAULT_ALERT_THRESHOLD,
} from '../../operators/anomaly/anomaly-rows.ts';
import { anomalyScores, type WithAnomaly } from '../../operators/anomaly/anomaly-score.ts';
import { conformsTo } from '../../operators/basic/conforms-to.ts';
import { decodeJson } from '../kernel/operators/basic/decode-json.ts';
import type { DriftReport } from '../../operators/drift/drift-report.ts';
import { driftAlertRows, driftMetricRows } from '../../operators/drift/drift-rows.ts';
import { type DetectorSpec, driftWindow } from '../../operators/drift/drift-window.ts';
import { rollingFeatures, type WithRolling } from '../../operators/rolling/rolling-features.ts';
import { countWindow, tumbling } from '../kernel/operators/window/window-spec.ts';
import type { Event } from '../../schemas/event.ts';
import { Pipeline, type Stream } from '../kernel/pipeline.ts';
import { eventTimeProblem, keyProblem } from '../kernel/record-checks.ts';
import { isWellFormed } from '../kernel/well-formed-text.ts';
import { pipelineDeadLetters } from './dead-letters.ts';
import { nabWindowsFile, readNabWindows } from './nab-labels.ts';
import { nabScores, type ScoredSeries } from './nab-score-stage.ts';
import { anomalyScoreRow, formatScore } from './nab-scoring.ts';
import { type EventsOptions, eventsOptionRules } from './events-options.ts';
import { type PipelineContext, type PipelineDefinition, topicName } from './pipeline-definition.ts';
import { newRunId } from './run-metrics.ts';

export type { Event } from '../../schemas/event.ts';

export interface EventStats {
  count: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * Checks a raw event and says exactly what is wrong with it, including what the runtime itself needs: an event time
 * it can carry (whole milliseconds from 1970 to 2200, record-checks.ts) and a key and source that are valid Unicode.
 */
export function validateEvent(raw: unknown): Event {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('event must be a JSON object');
  const r = raw as Record<string, unknown>;
  if (typeof r.key !== 'string' || r.key === '') throw new Error('event "key" must be a non-empty string');
  const keyIssue = keyProblem(r.key);
  if (keyIssue) throw new Error(`event ${keyIssue}`);
  const source = typeof r.source === 'string' ? r.source : 'unknown';
  if (!isWellFormed(source))
    throw new Error(
      `event "source" ${JSON.stringify(source.slice(0, 80))} is not valid Unicode (a lone UTF-16 surrogate)`,
    );
  const ts = parseEventTime(r.timestamp);
  if (!Number.isFinite(ts)) throw new Error(`event "timestamp" is not a date: ${JSON.stringify(r.timestamp)}`);
  const timeIssue = eventTimeProblem(ts);
  if (timeIssue) throw new Error(`event "timestamp" ${timeIssue}`);
  if (typeof r.value !== 'number' || !Number.isFinite(r.value))
    throw new Error(`event "value" must be a finite number, got ${JSON.stringify(r.value)}`);
  return { source, key: r.key, ts, value: r.value, values: {}, attributes: {} };
}

/**
 * The `events` warehouse row. The id is series, time and value: a redelivered event replaces itself, and two
 * readings of one series at one time with different values are both kept (NAB has 23 such rows in realKnownCause,
 * around DST changes; the windows and drift count both, so the table must too). Dead-lettering them as conflicts
 * instead would need every (series, time) seen kept forever, and which of the two is "the conflict" would depend on
 * arrival order.
 */
export const eventRow = (e: Event) => ({
  id: compositeId(e.source, e.key, e.ts, e.value),
  version: 0,
  source: e.source,
  key: e.key,
  ts: e.ts,
  value: e.value,
  attributes: JSON.stringify(e.attributes),
});

/**
 * Per-event change detection on the rolling z-score. ADWIN by default: on NAB it is the more precise of the two
 * (Page-Hinkley finds more labelled windows with 1.6× the alerts); on the raw value both follow the daily cycle.
 * Figures in README.md (`events` drift).
 */
function changeDetector(options: EventsOptions): DetectorSpec<WithRolling<Event>> {
  return { value: (e) => e.rolling.zScore, method: options.changeDetector ?? 'adwin', delta: 0.002 };
}

/** At end of input, scores each series' alerts against its labelled anomaly windows, when the labels can be found. */
function scoreAgainstLabels(drift: Stream<DriftReport>, context: PipelineContext<EventsOptions>, runId: string): void {
  const file = nabWindowsFile({ labelsFile: context.options.labelsFile }, context.settings.dataDir);
  if (!file) {
    process.stderr.write(
      'events: no labelled anomaly windows (config option labelsFile, or NAB under DRIFTLINE_DATA_DIR): alerts are ' +
        'not scored, anomaly_scores stays empty\n',
    );
    return;
  }
  drift
    .through(nabScores('nab-scores', readNabWindows(file), (s) => process.stderr.write(`events: ${formatScore(s)}\n`)))
    .to(
      context.warehouse.sink<ScoredSeries>('anomaly_scores', (r) =>
        anomalyScoreRow(r.value, runId, 'events', r.value.lastEventTime),
      ),
    );
}

/**
 * Each event's anomaly score (operators/anomaly/) → warehouse.event_anomaly_scores, and those at or above the
 * `anomalyThreshold` option → warehouse.anomaly_alerts.
 */
function scoreAnomalies(events: Stream<Event>, context: PipelineContext<EventsOptions>, runId: string): void {
  const threshold = context.options.anomalyThreshold ?? DEFAULT_ALERT_THRESHOLD;
  const scored = events
    .mapBatch('anomaly', anomalyScores<Event>({ value: (e) => e.value }))
    .filter('scored', (e) => e.anomaly !== null);
  const signals = (e: WithAnomaly<Event>) => e.anomaly!;
  const toRow = (e: WithAnomaly<Event>) => anomalyRecordRow(e, signals(e), threshold, 'events', runId);
  scored.to(context.warehouse.sink<WithAnomaly<Event>>('event_anomaly_scores', (r) => toRow(r.value)));
  scored
    .flatMap('anomaly-alert-rows', (e) => anomalyAlertRows(e, signals(e), threshold, 'events', runId))
    .to(context.warehouse.sink<Row>('anomaly_alerts', (r) => r.value));
}

/**
 * events → decode + validate → event time → key by series ─→ warehouse.events
 *                                                        ├→ anomaly score per event → warehouse.event_anomaly_scores
 *                                                        │                          ↘ ≥ threshold: anomaly_alerts
 *                    ↘ dead letters                      ├→ tumbling window stats → events.windows
 *                                                        │                ↘ late records (events.late)
 *                                                        └→ rolling features (mean, std, z-score, change)
 *                                                             → drift per series (windows vs the series' first events,
 *                                                               ADWIN on the z-score) ─→ warehouse.drift_metrics
 *                                                                                    ├→ warehouse.drift_alerts
 *                                                                                    └→ at end of input: scores against
 *                                                                                       NAB's labelled windows
 *                                                                                       → warehouse.anomaly_scores
 */
export const eventsPipeline: PipelineDefinition<EventsOptions> = {
  name: 'events',
  description:
    'Timestamped numeric events (e.g. NAB series) → per-series window statistics, rolling features, drift and ' +
    'change points scored against labelled anomalies',
  inputTopic: 'events',
  partitions: 4,
  options: eventsOptionRules,
  acceptsFile: isEventFile,
  read: readEventFiles,
  build(source, context) {
    const { transport, options } = context;
    const windowMs = (options.windowMinutes ?? 60) * 60_000;
    const p = new Pipeline('events').deadLetters(pipelineDeadLetters(context, 'events'));
    const events = p
      .from(source)
      .through(decodeJson('decode', { validate: validateEvent }))
      .through(conformsTo<Event>('schema', 'Event'))
      .eventTime('event-time', (e) => e.ts)
      .keyBy('by-series', (e) => e.key);
    events.to(context.warehouse.sink<Event>('events', (r) => eventRow(r.value)));
    const windows = events.window('stats', {
      spec: tumbling(windowMs),
      allowedLatenessMs: (options.allowedLatenessMinutes ?? 0) * 60_000,
      eventTime: options.eventTime ?? 'partition',
      maxKeyLagMs: (options.maxSeriesLagMinutes ?? Infinity) * 60_000,
      idleTimeoutMs: (options.idleTimeoutSeconds ?? 30) * 1000,
      init: (): EventStats => ({ count: 0, sum: 0, min: Infinity, max: -Infinity }),
      add: (s, e) => ({
        count: s.count + 1,
        sum: s.sum + e.value,
        min: Math.min(s.min, e.value),
        max: Math.max(s.max, e.value),
      }),
    });
    windows.to(
      topicSink(transport, { topic: topicName(context, 'events.windows'), partitions: 4, serialize: jsonBytes }),
    );
    windows.late.to(topicSink(transport, { topic: topicName(context, 'events.late'), serialize: jsonBytes }));

    const runId = context.runId ?? newRunId();
    scoreAnomalies(events, context, runId);
    const featured = events.mapBatch(
      'rolling',
      rollingFeatures<Event>({ size: options.rollingEvents ?? 12, value: (e) => e.value }),
    );
    // Count windows: per-series and independent of other series' clocks (NAB series cover different years).
    const driftWindowEvents = options.driftWindowEvents ?? 288;
    const drift = featured.through(
      driftWindow<WithRolling<Event>>('drift', {
        pipeline: 'events',
        warmUpReference: { records: options.referenceEvents ?? 1000 },
        features: { numeric: { z_score: (e) => e.rolling.zScore } },
        window: countWindow(driftWindowEvents),
        minWindowSize: driftWindowEvents,
        perKey: true,
        detectors: { z_score: changeDetector(options) },
      }),
    );
    drift
      .flatMap('drift-metric-rows', (r) => driftMetricRows(r, runId))
      .to(context.warehouse.sink<Row>('drift_metrics', (r) => r.value));
    drift
      .flatMap('drift-alert-rows', (r) => driftAlertRows(r, runId))
      .to(context.warehouse.sink<Row>('drift_alerts', (r) => r.value));
    scoreAgainstLabels(drift, context, runId);
    return p;
  },
};
