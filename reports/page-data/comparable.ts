/**
 * Page data without what legitimately differs between two warehouses fed the same input by the same pipelines: the
 * run ids, the wall clock (when data was taken, durations, throughput, latencies, lag) and which services ran it.
 * Kept in one place, like connectors/replay/wall-clock-columns.ts, so a comparison leaves out exactly these.
 */
import { WALL_CLOCK_COLUMNS } from '../../connectors/replay/wall-clock-columns.ts';

/** Fields dropped wherever they occur in page data. */
export const DIFFERING_FIELDS: readonly string[] = [
  // run ids and times of processing, as for replays
  ...WALL_CLOCK_COLUMNS,
  // meta: when the data was taken and from where
  'taken_at',
  'location',
  'warehouse',
  // pipeline_runs: the services a run used and its wall-clock measurements
  'transport',
  'ended_at',
  'records_per_s',
  'e2e_p50_ms',
  'e2e_p99_ms',
  'max_consumer_lag',
];

/**
 * Stage names that name the services: sinks are `duckdb:<table>` or `clickhouse:<table>`, sources name their topics
 * with the DRIFTLINE_TOPIC_PREFIX. Both become service-neutral (`warehouse:<table>`, topics without the prefix).
 */
export function neutralStage(stage: string, topicPrefix: string): string {
  const sink = stage.replace(/^(duckdb|clickhouse):/, 'warehouse:');
  return topicPrefix === '' ? sink : sink.split(topicPrefix).join('');
}

/**
 * A deep copy of page data without DIFFERING_FIELDS, with stage names made service-neutral (lists of stages are
 * sorted again: renaming moves them).
 */
export function comparablePageData(data: unknown, topicPrefix = ''): unknown {
  if (Array.isArray(data)) {
    const items = data.map((d) => comparablePageData(d, topicPrefix));
    const stages = items.length > 0 && items.every((i) => i !== null && typeof i === 'object' && 'stage' in i);
    return stages
      ? items
          .map((i) => [JSON.stringify(i), i] as const)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([, i]) => i)
      : items;
  }
  if (data === null || typeof data !== 'object') return data;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (DIFFERING_FIELDS.includes(key)) continue;
    out[key] =
      key === 'stage' && typeof value === 'string'
        ? neutralStage(value, topicPrefix)
        : comparablePageData(value, topicPrefix);
  }
  return out;
}
