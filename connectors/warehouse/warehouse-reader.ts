/**
 * Reads for the page data, written once for both warehouses: `from(table)` adds `FINAL` on ClickHouse (its
 * ReplacingMergeTree tables may still hold a redelivered row twice; DuckDB upserts, so it needs nothing). Queries
 * stick to SQL both ClickHouse 18.16 and DuckDB run: no joins (done in TypeScript), `count(*)`, `IN (subquery)`, and
 * standard string literals (`sqlString`; the reader translates them for ClickHouse).
 */
import type { TableName } from './tables.ts';
import type { Warehouse } from './warehouse.ts';
import { clickhouseStrings, sqlString } from './sql-string.ts';

export type Row = Record<string, unknown>;

/** A number from a warehouse value (DuckDB bigint, ClickHouse number or numeric string); null stays null. */
export function num(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = typeof value === 'bigint' ? Number(value) : Number(value);
  return Number.isFinite(n) ? n : null;
}

export interface WarehouseReader {
  readonly kind: Warehouse['kind'];
  /** `table` for DuckDB, `table FINAL` for ClickHouse. */
  from(table: TableName): string;
  rows(sql: string): Promise<Row[]>;
  /** The latest run of each pipeline (by when its metrics were recorded). */
  latestRuns(): Promise<Map<string, RunRef>>;
}

export type RunRef = {
  pipeline: string;
  run_id: string;
  /** When the run recorded its metrics (epoch ms). */
  at: number;
};

/** Page modules import the literal helper from here, beside the reader that runs their SQL. */
export { sqlString };

export function warehouseReader(warehouse: Warehouse): WarehouseReader {
  const from = (table: TableName) => (warehouse.kind === 'clickhouse' ? `${table} FINAL` : table);
  let latest: Promise<Map<string, RunRef>> | undefined;
  return {
    kind: warehouse.kind,
    from,
    // Queries are standard SQL (sql-string.ts): ClickHouse gets its own form of their string literals.
    rows: (sql) => warehouse.query(warehouse.kind === 'clickhouse' ? clickhouseStrings(sql) : sql),
    latestRuns() {
      latest ??= (async () => {
        // pipeline_metrics is written by every run and replay; pipeline_runs too once a run records it.
        const metrics = await warehouse.query(
          `SELECT pipeline, run_id, max("at") AS last_at FROM ${from('pipeline_metrics')} GROUP BY pipeline, run_id`,
        );
        const runs = await warehouse.query(
          `SELECT pipeline, run_id, ended_at AS last_at FROM ${from('pipeline_runs')}`,
        );
        return latestPerPipeline(
          [...metrics, ...runs].map((r) => ({
            pipeline: String(r.pipeline),
            run_id: String(r.run_id),
            at: num(r.last_at) ?? 0,
          })),
        );
      })();
      return latest;
    },
  };
}

/** Per pipeline, the run with the largest `at` (ties: the larger run id, so the choice never depends on row order). */
export function latestPerPipeline(runs: RunRef[]): Map<string, RunRef> {
  const out = new Map<string, RunRef>();
  for (const run of runs) {
    const current = out.get(run.pipeline);
    if (!current || run.at > current.at || (run.at === current.at && run.run_id > current.run_id))
      out.set(run.pipeline, run);
  }
  return out;
}

/** `WHERE` condition selecting the latest run of `pipeline` (no rows when it never ran). */
export async function latestRunCondition(
  reader: WarehouseReader,
  pipeline: string,
): Promise<{ run: RunRef | null; where: string }> {
  const run = (await reader.latestRuns()).get(pipeline) ?? null;
  return { run, where: `pipeline = ${sqlString(pipeline)} AND run_id = ${sqlString(run?.run_id ?? '')}` };
}
