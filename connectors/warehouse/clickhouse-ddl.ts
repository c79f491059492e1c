/**
 * ClickHouse DDL from the table definitions in tables.ts.
 *
 * Valid on ClickHouse 18.16 and current releases: only types 18.16 has (String, Nullable, Float64, Int*, UInt*,
 * Array), the "new" MergeTree syntax (ENGINE = ... ORDER BY ...), no TTL, no LowCardinality, no DateTime64.
 *
 * Dedup. Sinks are at-least-once: after a crash or a retried insert the same rows arrive again. Tables are
 * `ReplacingMergeTree(version) ORDER BY id`, which collapses rows with the same id to the one with the highest
 * version — but only when parts merge, which happens at an unspecified later time. So:
 *
 *   - queries that must not see duplicates use `FINAL`: `SELECT count() FROM postings FINAL` (works on 18.16 for
 *     ReplacingMergeTree; it merges at read time, so it is slower on big tables), or
 *   - count distinct keys instead: `SELECT uniqExact(id) FROM postings` — see {@link countDistinctSql}.
 *
 * A plain `SELECT count() FROM postings` may count redelivered rows twice until a merge (or
 * `OPTIMIZE TABLE ... FINAL`).
 */
import { type ColumnDef, type ColumnType, type TableDef, type TableName, tableDef } from './tables.ts';

export const CLICKHOUSE_TYPES: Record<ColumnType, string> = {
  string: 'String',
  nullable_string: 'Nullable(String)',
  float64: 'Float64',
  nullable_float64: 'Nullable(Float64)',
  int64: 'Int64',
  int32: 'Int32',
  uint8: 'UInt8',
  nullable_uint8: 'Nullable(UInt8)',
  uint64: 'UInt64',
  timestamp_ms: 'Int64',
  nullable_timestamp_ms: 'Nullable(Int64)',
  nullable_int64: 'Nullable(Int64)',
  nullable_int32: 'Nullable(Int32)',
  array_string: 'Array(String)',
  array_float64: 'Array(Float64)',
  json_string: 'String',
};

/** Backquoted identifier (works on 18.16 and later). */
export const chIdent = (name: string): string => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;

/** A ClickHouse string literal. Needed because query parameters (`{x:String}`) are not supported on 18.16. */
export const chString = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function clickhouseCreateTable(table: TableName | TableDef, database?: string): string {
  const def = tableDef(table);
  const name = database ? `${chIdent(database)}.${chIdent(def.name)}` : chIdent(def.name);
  const columns = def.columns.map((col) => `  ${chIdent(col.name)} ${CLICKHOUSE_TYPES[col.type]}`).join(',\n');
  return (
    `CREATE TABLE IF NOT EXISTS ${name}\n(\n${columns}\n)\nENGINE = ` +
    `ReplacingMergeTree(${chIdent('version')})\nORDER BY ${chIdent('id')}`
  );
}

/** Adds a column a table created earlier lacks (18.16 has no IF NOT EXISTS here: see missing-columns.ts). */
export function clickhouseAddColumn(table: TableName | TableDef, column: ColumnDef, database?: string): string {
  const def = tableDef(table);
  const name = database ? `${chIdent(database)}.${chIdent(def.name)}` : chIdent(def.name);
  return `ALTER TABLE ${name} ADD COLUMN ${chIdent(column.name)} ${CLICKHOUSE_TYPES[column.type]}`;
}

/**
 * Distinct rows by id: the redelivery-proof count that needs no FINAL. `uniqExact` exists on 18.16 and later
 * (`count(DISTINCT id)` also works and maps to uniqExact by default).
 */
export function countDistinctSql(table: string, where?: string): string {
  return `SELECT uniqExact(${chIdent('id')}) AS n FROM ${chIdent(table)}${where ? ` WHERE ${where}` : ''}`;
}

/** Row count with duplicates collapsed at read time (ReplacingMergeTree + FINAL). */
export function countFinalSql(table: string, where?: string): string {
  return `SELECT count() AS n FROM ${chIdent(table)} FINAL${where ? ` WHERE ${where}` : ''}`;
}
