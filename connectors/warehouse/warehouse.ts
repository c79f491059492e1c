/**
 * The warehouse a deployment writes to: ClickHouse when CLICKHOUSE_URL is set, otherwise the embedded DuckDB file
 * `${DRIFTLINE_HOME}/warehouse.duckdb`. Same tables and columns in both (tables.ts).
 *
 * Reading without duplicates: DuckDB tables are upserted by id, so plain queries are exact. ClickHouse tables are
 * ReplacingMergeTree: write `FROM t FINAL` (or count `uniqExact(id)`) where redelivered rows must not count twice.
 */
import { join } from 'node:path';
import { redactUrl } from '../../config/redact.ts';
import type { Settings } from '../../config/settings.ts';
import type { StreamRecord } from '../../streams/kernel/record.ts';
import type { Sink } from '../../streams/kernel/sink.ts';
import { chString, clickhouseAddColumn, clickhouseCreateTable } from './clickhouse-ddl.ts';
import { checkClickHouseReachable } from './first-contact.ts';
import { type ClickHouseSinkOptions, clickhouseSink, createClickHouseClient } from './clickhouse-sink.ts';
import { type DuckDBSinkOptions, DuckDBWarehouse, duckdbSink } from './duckdb-sink.ts';
import { missingColumns } from './missing-columns.ts';
import { type Row, TABLE_NAMES, type TableDef, type TableName, tableDef } from './tables.ts';

export type WarehouseSinkOptions<T> = ClickHouseSinkOptions<T> & DuckDBSinkOptions<T>;

export interface Warehouse {
  readonly kind: 'clickhouse' | 'duckdb';
  /** Where: the ClickHouse URL (display form: its password redacted) or the DuckDB file. */
  readonly location: string;
  /**
   * CREATE TABLE IF NOT EXISTS for every table (or the given ones), then adds the nullable columns an older table
   * lacks; idempotent.
   */
  ensureTables(tables?: (TableName | TableDef)[]): Promise<void>;
  sink<T>(
    table: TableName | TableDef,
    toRow: (record: StreamRecord<T>) => Row,
    options?: WarehouseSinkOptions<T>,
  ): Sink<T>;
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export interface OpenWarehouseOptions {
  /** Override the DuckDB file (default `${settings.home}/warehouse.duckdb`). */
  duckdbPath?: string;
  /** Use DuckDB even if CLICKHOUSE_URL is set. */
  forceDuckdb?: boolean;
  /** ClickHouse database for tables and unqualified names in queries (default: the server's, usually `default`). */
  clickhouseDatabase?: string;
}

export async function openWarehouse(
  settings: Pick<Settings, 'home' | 'clickhouseUrl'> & { clickhouseDatabase?: string; warehouseFlushMs?: number },
  options: OpenWarehouseOptions = {},
): Promise<Warehouse> {
  const flush = settings.warehouseFlushMs;
  if (settings.clickhouseUrl && !options.forceDuckdb)
    return openClickHouseWarehouse(
      settings.clickhouseUrl,
      options.clickhouseDatabase ?? settings.clickhouseDatabase,
      flush,
    );
  const path = options.duckdbPath ?? join(settings.home, 'warehouse.duckdb');
  const db = await DuckDBWarehouse.open(path);
  return {
    kind: 'duckdb',
    location: path,
    ensureTables: (tables) => db.ensureTables(tables ?? TABLE_NAMES),
    sink: (table, toRow, sinkOptions) => duckdbSink(db, table, toRow, { maxWaitMs: flush, ...sinkOptions }),
    query: (sql) => db.query(sql),
    close: () => db.close(),
  };
}

function openClickHouseWarehouse(url: string, database?: string, flushMs?: number): Warehouse {
  const client = createClickHouseClient({ url, database });
  // Before the first request: an unreachable server fails in seconds with the fix (first-contact.ts).
  let reachable: Promise<void> | undefined;
  const reach = () => (reachable ??= checkClickHouseReachable(url));
  return {
    kind: 'clickhouse',
    // Printed in summaries and stored in report pages: never the password.
    location: redactUrl(url),
    async ensureTables(tables) {
      await reach();
      if (database && database !== 'default') {
        const admin = createClickHouseClient({ url });
        await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` }).finally(() => admin.close());
      }
      for (const t of tables ?? TABLE_NAMES) {
        await client.command({ query: clickhouseCreateTable(t) });
        await addMissingColumns(client, tableDef(t));
      }
    },
    // Sinks share the warehouse's client (its keep-alive pool); closing the warehouse closes it.
    sink: (table, toRow, sinkOptions) =>
      clickhouseSink(table, toRow, { url, database, client, maxWaitMs: flushMs, ...sinkOptions }),
    async query(sql) {
      await reach();
      // 64-bit integers as JSON numbers (not quoted strings) so rows look the same as DuckDB's.
      const result = await client.query({
        query: sql,
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      });
      return (await result.json()) as Record<string, unknown>[];
    },
    close: () => client.close(),
  };
}

/** Adds the columns a table created by an earlier version lacks (missing-columns.ts). */
async function addMissingColumns(client: ReturnType<typeof createClickHouseClient>, def: TableDef): Promise<void> {
  const stored = async () => {
    const result = await client.query({
      query: `SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ${chString(def.name)}`,
      format: 'JSONEachRow',
    });
    return ((await result.json()) as { name: string }[]).map((r) => r.name);
  };
  for (const column of missingColumns(def, await stored())) {
    await client.command({ query: clickhouseAddColumn(def, column) }).catch(async (error: unknown) => {
      if (!(await stored()).includes(column.name)) throw error; // else another process added it meanwhile
    });
  }
}
