/**
 * Client-side row checks against a table definition, shared by both warehouses.
 *
 * ClickHouse 18.16 silently coerces some bad values instead of rejecting them: a JSON string "3.5" is accepted into a
 * Float64 column and 300 into a UInt8 column becomes 44 (wraps). DuckDB's appender needs exact JS types. Checking
 * rows before sending catches these as rejected rows (dead letters) instead of corrupted or failed inserts.
 */
import type { ColumnType, Row, TableDef } from './tables.ts';

const isInt = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

const CHECKS: Record<ColumnType, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  nullable_string: (v) => v === null || typeof v === 'string',
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
  array_string: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  array_float64: (v) => Array.isArray(v) && v.every(isNum),
  json_string: (v) => typeof v === 'string',
};

const NULLABLE = new Set<ColumnType>(['nullable_string', 'nullable_float64', 'nullable_timestamp_ms', 'nullable_int64', 'nullable_int32', 'nullable_uint8']);

/** Returns a function giving the reason a row does not fit the table, or undefined when it does. */
export function rowValidator(def: TableDef): (row: Row) => string | undefined {
  const columns = def.columns;
  const known = new Set(columns.map((c) => c.name));
  return (row) => {
    if (row === null || typeof row !== 'object') return `row is ${row === null ? 'null' : typeof row}, not an object`;
    let seen = 0;
    for (const col of columns) {
      const value = row[col.name];
      if (value === undefined) {
        if (NULLABLE.has(col.type)) continue;
        return `missing column ${col.name} (${col.type})`;
      }
      seen++;
      if (!CHECKS[col.type](value)) return `column ${col.name}: ${JSON.stringify(value)?.slice(0, 80)} is not a valid ${col.type}`;
    }
    const keys = Object.keys(row);
    if (keys.length !== seen) {
      const extra = keys.filter((k) => !known.has(k) && row[k] !== undefined);
      if (extra.length) return `unknown column(s) ${extra.join(', ')} for table ${def.name}`;
    }
    return undefined;
  };
}
