/**
 * Client-side row checks against a table definition, shared by both warehouses.
 *
 * ClickHouse 18.16 silently coerces some bad values instead of rejecting them: a JSON string "3.5" is accepted into a
 * Float64 column and 300 into a UInt8 column becomes 44 (wraps). DuckDB's appender needs exact JS types. Checking
 * rows before sending catches these as rejected rows (dead letters) instead of corrupted or failed inserts.
 * Strings must be valid Unicode: a lone UTF-16 surrogate fails a whole ClickHouse INSERT (code 25) while DuckDB
 * stores U+FFFD in its place, so both warehouses refuse it here, alike.
 */
import { isWellFormed, toWellFormed } from '../../streams/kernel/well-formed-text.ts';
import type { ColumnType, Row, TableDef } from './tables.ts';

const isInt = (v: unknown, min: number, max: number) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isText = (v: unknown) => typeof v === 'string' && isWellFormed(v);

const CHECKS: Record<ColumnType, (v: unknown) => boolean> = {
  string: isText,
  nullable_string: (v) => v === null || isText(v),
  float64: isNum,
  nullable_float64: (v) => v === null || isNum(v),
  int64: (v) => isInt(v, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  int32: (v) => isInt(v, -2147483648, 2147483647),
  uint8: (v) => isInt(v, 0, 255),
  nullable_uint8: (v) => v === null || isInt(v, 0, 255),
  uint64: (v) => isInt(v, 0, Number.MAX_SAFE_INTEGER),
  timestamp_ms: (v) => isInt(v, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  nullable_timestamp_ms: (v) => v === null || isInt(v, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  nullable_int64: (v) => v === null || isInt(v, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  nullable_int32: (v) => v === null || isInt(v, -2147483648, 2147483647),
  array_string: (v) => Array.isArray(v) && v.every(isText),
  array_float64: (v) => Array.isArray(v) && v.every(isNum),
  json_string: isText,
};

const NULLABLE = new Set<ColumnType>([
  'nullable_string',
  'nullable_float64',
  'nullable_timestamp_ms',
  'nullable_int64',
  'nullable_int32',
  'nullable_uint8',
]);

/** The value as JSON, cut short (and kept well-formed where the cut splits a surrogate pair). */
const shown = (value: unknown) => toWellFormed(JSON.stringify(value)?.slice(0, 80) ?? String(value));
const unicodeHint = (value: unknown) =>
  typeof value === 'string' && !isWellFormed(value) ? ' (not valid Unicode: a lone UTF-16 surrogate)' : '';

/** Returns a function giving the reason a row does not fit the table, or undefined when it does. */
export function rowValidator(def: TableDef): (row: Row) => string | undefined {
  // Per column, resolved once: each row then costs its property reads and checks, no lookups by type.
  const columns = def.columns.map((c) => ({ ...c, check: CHECKS[c.type], nullable: NULLABLE.has(c.type) }));
  const known = new Set(columns.map((c) => c.name));
  return (row) => {
    if (row === null || typeof row !== 'object') return `row is ${row === null ? 'null' : typeof row}, not an object`;
    let seen = 0;
    for (const col of columns) {
      const value = row[col.name];
      if (value === undefined) {
        if (col.nullable) continue;
        return `missing column ${col.name} (${col.type})`;
      }
      seen++;
      if (!col.check(value))
        return `column ${col.name}: ${shown(value)} is not a valid ${col.type}${unicodeHint(value)}`;
    }
    let keys = 0;
    for (const _ in row) keys++; // counts without allocating a key array, the common case
    if (keys !== seen) {
      const extra = Object.keys(row).filter((k) => !known.has(k) && row[k] !== undefined);
      if (extra.length) return `unknown column(s) ${extra.join(', ')} for table ${def.name}`;
    }
    return undefined;
  };
}
