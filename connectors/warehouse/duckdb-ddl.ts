/**
 * DuckDB DDL from the same table definitions as ClickHouse (tables.ts): same table and column names.
 * Dedup: PRIMARY KEY (id), and sinks upsert (a redelivered row replaces the stored one unless the stored version
 * is newer), so plain `SELECT count(*)` is already duplicate-free — no FINAL needed (nor supported) here.
 */
import { type ColumnDef, type ColumnType, type TableDef, type TableName, tableDef } from './tables.ts';

export const DUCKDB_TYPES: Record<ColumnType, string> = {
  string: 'VARCHAR NOT NULL',
  nullable_string: 'VARCHAR',
  float64: 'DOUBLE NOT NULL',
  nullable_float64: 'DOUBLE',
  int64: 'BIGINT NOT NULL',
  int32: 'INTEGER NOT NULL',
  uint8: 'UTINYINT NOT NULL',
  nullable_uint8: 'UTINYINT',
  uint64: 'UBIGINT NOT NULL',
  timestamp_ms: 'BIGINT NOT NULL',
  nullable_timestamp_ms: 'BIGINT',
  nullable_int64: 'BIGINT',
  nullable_int32: 'INTEGER',
  array_string: 'VARCHAR[] NOT NULL',
  array_float64: 'DOUBLE[] NOT NULL',
  json_string: 'VARCHAR NOT NULL',
};

export const duckIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export function duckdbCreateTable(table: TableName | TableDef): string {
  const def = tableDef(table);
  const columns = def.columns.map(
    (col) => `  ${duckIdent(col.name)} ${col.name === 'id' ? 'VARCHAR PRIMARY KEY' : DUCKDB_TYPES[col.type]}`,
  );
  return `CREATE TABLE IF NOT EXISTS ${duckIdent(def.name)} (\n${columns.join(',\n')}\n)`;
}

/** Adds a column a table created earlier lacks (see missing-columns.ts). */
export function duckdbAddColumn(table: TableName | TableDef, column: ColumnDef): string {
  return (
    `ALTER TABLE ${duckIdent(tableDef(table).name)} ADD COLUMN IF NOT ` +
    `EXISTS ${duckIdent(column.name)} ${DUCKDB_TYPES[column.type]}`
  );
}
