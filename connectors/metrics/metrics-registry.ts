import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { LiveRun } from '../../streams/kernel/live-run.ts';
import { registerLatencyHistogram } from './latency-histogram-metric.ts';
import type { SinkFigures } from './sink-figures.ts';

type Labels = Record<string, string | number>;
type Series = readonly (readonly [Labels, number])[];

/** Distinct dead-letter reasons exported per stage; the rest are summed under OTHER_REASONS (reasons are free text). */
const MAX_REASONS = 20;
const OTHER_REASONS = 'other reasons';
const MAX_REASON_CHARS = 80;

export interface RunMetricsSource {
  /** Pipeline name: the `pipeline` label of every series. */
  pipeline: string;
  /** The run's live figures once it has started (runner's `onStart`). */
  live: () => LiveRun | undefined;
  sinks: SinkFigures;
}

/**
 * A prom-client registry whose driftline metrics are all read on scrape (collect callbacks): nothing is counted
 * twice and nothing runs between scrapes. Names and labels are listed in README.md ("Metrics").
 */
export function driftlineRegistry(source: RunMetricsSource): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerRunMetrics(registry, source);
  registerSinkMetrics(registry, source);
  return registry;
}

function registerRunMetrics(registry: Registry, { pipeline, live }: RunMetricsSource): void {
  const nodes = () => live()?.nodes ?? [];
  type Node = ReturnType<typeof nodes>[number];
  const node = (n: Node) => ({ pipeline, stage: n.metrics.stage, kind: n.kind });
  const perNode = (read: (n: Node) => number) => () => nodes().map((n) => [node(n), read(n)] as const);
  const nodeLabels = ['pipeline', 'stage', 'kind'];

  const sources = () => nodes().filter((n) => n.kind === 'source');
  const read = () => sources().map((n) => [{ pipeline }, n.metrics.recordsIn] as const);
  counter(registry, 'driftline_records_processed_total', 'Records the source read', ['pipeline'], read);
  const recordsIn = perNode((n) => n.metrics.recordsIn);
  counter(registry, 'driftline_stage_records_in_total', 'Records a node received', nodeLabels, recordsIn);
  const recordsOut = perNode((n) => n.metrics.recordsOut);
  const outHelp = 'Records a node passed on (sinks: stored)';
  counter(registry, 'driftline_stage_records_out_total', outHelp, nodeLabels, recordsOut);
  const batches = perNode((n) => n.metrics.batches);
  counter(registry, 'driftline_stage_batches_total', 'Batches a node processed (sinks: writes)', nodeLabels, batches);

  const deadLetters = () =>
    nodes().flatMap((n) =>
      reasons(n.metrics.deadLettersByReason).map(([reason, count]) => {
        return [{ pipeline, stage: n.metrics.stage, reason }, count] as const;
      }),
    );
  const deadLetterLabels = ['pipeline', 'stage', 'reason'];
  counter(registry, 'driftline_dead_letters_total', 'Records turned into dead letters', deadLetterLabels, deadLetters);
  const queues = () =>
    nodes()
      .filter((n) => n.kind !== 'source')
      .map((n) => [{ pipeline, stage: n.metrics.stage }, n.metrics.queueDepth()] as const);
  gauge(registry, 'driftline_stage_queue_depth', 'Batches waiting in front of a node', ['pipeline', 'stage'], queues);
  const lags = () =>
    (live()?.consumerLag() ?? []).map((p) => [{ pipeline, topic: p.topic, partition: p.partition }, p.lag] as const);
  const lagHelp = 'Records behind the log end, per partition read (sampled about once a second)';
  gauge(registry, 'driftline_consumer_lag_records', lagHelp, ['pipeline', 'topic', 'partition'], lags);

  const batchHelp = 'Time a node spent on one batch (sinks: one write)';
  registerLatencyHistogram(registry, 'driftline_stage_batch_duration_seconds', batchHelp, () =>
    nodes().map((n) => ({ labels: node(n), histogram: n.metrics.batchLatency })),
  );
  const e2eHelp = "From a record's send (or read) time to its own rows stored";
  registerLatencyHistogram(registry, 'driftline_end_to_end_latency_seconds', e2eHelp, () => {
    const run = live();
    return run ? [{ labels: { pipeline }, histogram: run.endToEnd }] : [];
  });
}

function registerSinkMetrics(registry: Registry, { pipeline, sinks }: RunMetricsSource): void {
  const perTable = (map: Map<string, number>) => () => [...map].map(([table, n]) => [{ pipeline, table }, n] as const);
  const tableLabels = ['pipeline', 'table'];
  const rows = perTable(sinks.rows);
  counter(registry, 'driftline_sink_rows_total', 'Rows stored in a warehouse table', tableLabels, rows);
  const rejected = perTable(sinks.rejected);
  counter(registry, 'driftline_sink_rejected_rows_total', 'Rows a table refused (dead letters)', tableLabels, rejected);
  const errors = perTable(sinks.insertErrors);
  counter(registry, 'driftline_sink_insert_errors_total', 'Failed inserts (each retry counts)', tableLabels, errors);

  const versionLabels = ['pipeline', 'model', 'version'];
  const version = (p: { model: string; version: string }) => ({ pipeline, model: p.model, version: p.version });
  const predictions = () => [...sinks.predictions.values()].map((p) => [version(p), p.count] as const);
  counter(registry, 'driftline_predictions_total', 'Predictions stored, per model version', versionLabels, predictions);
  const inUse = () => sinks.versionsInUse().map((p) => [version(p), 1] as const);
  const inUseHelp = '1 for each model version that stored a prediction in the last minute';
  gauge(registry, 'driftline_model_version_in_use', inUseHelp, versionLabels, inUse);

  const alerts = () =>
    [...sinks.driftAlerts.values()].map((a) => [{ pipeline, kind: a.kind, severity: a.severity }, a.count] as const);
  counter(registry, 'driftline_drift_alerts_total', 'Drift alerts stored', ['pipeline', 'kind', 'severity'], alerts);
  const acceptRate = () => {
    const latest = sinks.pseudoLabelAcceptRate;
    return latest ? [[{ pipeline }, latest.rate] as const] : [];
  };
  const rateHelp = 'Accepted / predictions in the latest pseudo-label window';
  gauge(registry, 'driftline_pseudo_label_accept_rate', rateHelp, ['pipeline'], acceptRate);
}

/** Dead-letter counts by reason, cut to MAX_REASONS label values per stage. */
function reasons(byReason: ReadonlyMap<string, number>): [string, number][] {
  const out: [string, number][] = [];
  let other = 0;
  for (const [reason, count] of byReason) {
    if (out.length < MAX_REASONS) out.push([reason.slice(0, MAX_REASON_CHARS), count]);
    else other += count;
  }
  if (other > 0) out.push([OTHER_REASONS, other]);
  return out;
}

/** A counter whose values are read from the runtime on each scrape. */
function counter(registry: Registry, name: string, help: string, labelNames: string[], read: () => Series): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

/** A gauge whose values are read from the runtime on each scrape. */
function gauge(registry: Registry, name: string, help: string, labelNames: string[], read: () => Series): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.set(labels, value);
    },
  });
}
