/**
 * Pipelines: every recorded run (throughput, end-to-end latency, consumer lag), the latest run's per-stage metrics
 * for each pipeline, and dead letters by stage and reason.
 */
import { canonicalRows, num } from './canonical.ts';
import type { PageExport } from './page.ts';
import { sqlString, type Row } from '../../connectors/warehouse/warehouse-reader.ts';

/** Reasons longer than this are cut (they can quote a record): grouping stays readable. */
const REASON_CHARS = 400;

/** Dead letters per stage and (cut) reason. */
export function deadLettersByReason(rows: Row[]): { stage: string; reason: string; count: number }[] {
  const counts = new Map<string, { stage: string; reason: string; count: number }>();
  for (const r of rows) {
    const error = String(r.error ?? '');
    const reason = error.length > REASON_CHARS ? `${error.slice(0, REASON_CHARS - 1)}…` : error;
    const key = `${String(r.stage)}\u0000${reason}`;
    const entry = counts.get(key) ?? { stage: String(r.stage), reason, count: 0 };
    entry.count += num(r.n) ?? 1;
    counts.set(key, entry);
  }
  return [...counts.values()];
}

/**
 * Stages in the order records flow: by `stage_index`, the position the run recorded (the source 0, every stage after
 * its upstream, dead letters last). Rows written before that column existed have none; for them the order is
 * estimated from the metrics: the source first, then the processing stages (more records in first: a stage sees at
 * most what its upstream passed on, filters and windows cut it down), the sinks, and the dead-letter stage last, with
 * equal counts in name order.
 */
export function dataflowOrder<T extends Row>(stages: readonly T[]): T[] {
  if (stages.length > 0 && stages.every((s) => num(s.stage_index) !== null))
    return [...stages].sort((a, b) => num(a.stage_index)! - num(b.stage_index)!);
  const rank = (stage: string) =>
    stage.startsWith('source:') ? 0 : /^(duckdb|clickhouse|sink):/.test(stage) ? 2 : stage === 'dead-letters' ? 3 : 1;
  return [...stages].sort((a, b) => {
    const [sa, sb] = [String(a.stage), String(b.stage)];
    const byRecords = rank(sa) === 1 ? (num(b.records_in) ?? 0) - (num(a.records_in) ?? 0) : 0;
    return rank(sa) - rank(sb) || byRecords || (sa < sb ? -1 : sa > sb ? 1 : 0);
  });
}

export const pipelinesPage: PageExport = {
  name: 'pipelines',
  tables: ['pipeline_runs', 'pipeline_metrics', 'dead_letters'],
  async export(reader) {
    const runs = canonicalRows(
      await reader.rows(
        `SELECT run_id, pipeline, mode, transport, warehouse, started_at, ended_at, records_in, records_per_s, ` +
          `e2e_p50_ms, e2e_p99_ms, max_consumer_lag, dead_letters FROM ${reader.from('pipeline_runs')}`,
      ),
      ['pipeline', 'started_at', 'run_id'],
    );
    const latest = [...(await reader.latestRuns()).values()];
    const stages: Row[] = [];
    for (const run of latest) {
      const rows = await reader.rows(
        `SELECT pipeline, stage, stage_index, records_in, records_out, dead_letters, p50_ms, p99_ms ` +
          `FROM ${reader.from('pipeline_metrics')} WHERE run_id = ${sqlString(run.run_id)} AND pipeline ` +
          `= ${sqlString(run.pipeline)}`,
      );
      stages.push(...rows);
    }
    const letters = await reader.rows(
      `SELECT stage, error, count(*) AS n FROM ${reader.from('dead_letters')} GROUP BY stage, error`,
    );
    return {
      runs: canonicalRows(latest, ['pipeline']),
      data: {
        runs,
        stages: [...new Set(stages.map((s) => String(s.pipeline)))].sort().flatMap((pipeline) =>
          dataflowOrder(
            canonicalRows(
              stages.filter((s) => s.pipeline === pipeline),
              ['stage'],
            ),
          ),
        ),
        dead_letters: canonicalRows(deadLettersByReason(letters), ['-count', 'stage', 'reason']),
      },
    };
  },
};
