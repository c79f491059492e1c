/**
 * Canonical page data: the same warehouse content must give byte-identical JSON whichever warehouse it came from
 * (ClickHouse and DuckDB return numbers with different types, rows in different orders, sums in different float
 * orders). Values are normalized, rows sorted by stated keys.
 */

/** Significant digits kept for non-integers: far below what a chart shows, above float noise between engines. */
export const SIGNIFICANT_DIGITS = 10;

/** bigint → number, numeric values of non-integers rounded to SIGNIFICANT_DIGITS, -0 → 0, NaN/±Infinity → null. */
export function canonicalValue(value: unknown): unknown {
  if (typeof value === 'bigint') return canonicalValue(Number(value));
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    if (Number.isInteger(value)) return value === 0 ? 0 : value;
    const rounded = Number(value.toPrecision(SIGNIFICANT_DIGITS));
    return rounded === 0 ? 0 : rounded;
  }
  if (Array.isArray(value)) return value.map(canonicalValue);
  if (value !== null && typeof value === 'object') return canonicalRow(value as Record<string, unknown>);
  return value ?? null;
}

/** A row with canonical values and its keys in the given order (columns not listed follow, sorted by name). */
export function canonicalRow<T extends Record<string, unknown>>(row: T, columns?: readonly string[]): T {
  const names = columns
    ? [
        ...columns,
        ...Object.keys(row)
          .filter((k) => !columns.includes(k))
          .sort(),
      ]
    : Object.keys(row).sort();
  const out: Record<string, unknown> = {};
  for (const name of names) if (name in row) out[name] = canonicalValue(row[name]);
  return out as T;
}

/** Total order on JSON-like values: null first, numbers numerically, strings by code unit (not locale). */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [x, y] = [typeof a === 'string' ? a : JSON.stringify(a), typeof b === 'string' ? b : JSON.stringify(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Key of a sort: a column, descending when prefixed with '-'. */
export type SortKey = string;

/** Rows made canonical and sorted by `keys`, ties broken by the whole row, so the order never depends on the engine. */
export function canonicalRows<T extends Record<string, unknown>>(rows: readonly T[], keys: readonly SortKey[]): T[] {
  const canonical = rows.map((r) => canonicalRow(r));
  const decorated = canonical.map((row) => ({ row, text: JSON.stringify(row) }));
  decorated.sort((p, q) => {
    for (const key of keys) {
      const descending = key.startsWith('-');
      const column = descending ? key.slice(1) : key;
      const c = compareValues(p.row[column], q.row[column]);
      if (c !== 0) return descending ? -c : c;
    }
    return p.text < q.text ? -1 : p.text > q.text ? 1 : 0;
  });
  return decorated.map((d) => d.row);
}

// `num` (a number from a warehouse value) lives with the warehouse reader; page modules still take it from here.
export { num } from '../../connectors/warehouse/warehouse-reader.ts';

/** Page data as written to disk: one-space indentation (diffable), trailing newline. */
export const pageJson = (data: unknown) => `${JSON.stringify(canonicalValue(data), null, 1)}\n`;
