/**
 * What differs between two runs over the same input even when the pipeline is deterministic: the run's identity and
 * the wall clock. Kept in one place, so replay comparisons (tests, audits) leave out exactly these and nothing else.
 * Add a column here when a table gains one that holds the time of processing rather than a time from the input.
 */

/** Columns holding a run id or a time (or duration) of processing. */
export const WALL_CLOCK_COLUMNS: readonly string[] = [
  'run_id',
  'at',
  'updated_at',
  'received_at',
  'failed_at',
  'predicted_at',
  'queued_at',
  'accepted_at',
  'started_at',
  'finished_at',
  'latency_ms',
  'train_seconds',
  'p50_ms',
  'p99_ms',
  // pipeline_runs: a run's timing, throughput, latency and lag
  'ended_at',
  'records_per_s',
  'e2e_p50_ms',
  'e2e_p99_ms',
  'max_consumer_lag',
];

/**
 * Tables whose `version` is a time of processing: dead letters (failed_at), run metrics (at, ended_at), model
 * comparisons (updated_at: a window's row is re-emitted as late labels arrive, the latest wins), postings, whose
 * version is the event time, which is the read time for sources without a date (Glassdoor), and training runs
 * (finished_at).
 */
export const WALL_CLOCK_VERSION_TABLES: readonly string[] = [
  'dead_letters',
  'model_comparison',
  'pipeline_metrics',
  'pipeline_runs',
  'postings',
  'training_runs',
];

/** Stands in for the run id inside ids and other strings (e.g. pipeline_metrics ids `<run id>/<stage>`). */
export const RUN_ID_PLACEHOLDER = '<run>';

/** A row without its wall-clock columns, with `runId` replaced wherever a string contains it. */
export function comparableRow(table: string, row: Record<string, unknown>, runId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (WALL_CLOCK_COLUMNS.includes(column)) continue;
    if (column === 'version' && WALL_CLOCK_VERSION_TABLES.includes(table)) continue;
    out[column] = typeof value === 'string' && runId !== '' ? value.replaceAll(runId, RUN_ID_PLACEHOLDER) : value;
  }
  return out;
}
