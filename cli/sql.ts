/** `driftline sql "<query>"`: runs a query against the warehouse (ClickHouse if CLICKHOUSE_URL is set, else DuckDB). */
import { commandSettings } from '../config/settings.ts';
import { openWarehouse } from '../connectors/warehouse/warehouse.ts';
import { csvField } from './csv.ts';

export type SqlFormat = 'table' | 'json' | 'csv';

export interface SqlCommandOptions {
  format?: SqlFormat;
  /** Table format: every value in full, however wide (default: cells cut at 60 characters). */
  wide?: boolean;
  config?: string;
  /** Where to print (default process.stdout). */
  out?: NodeJS.WritableStream;
}

/** Runs every statement of `query` in order, printing each one's rows; returns the rows of the last. */
export async function sqlCommand(query: string, options: SqlCommandOptions = {}): Promise<Record<string, unknown>[]> {
  const statements = splitStatements(query);
  if (statements.length === 0) throw new Error('no SQL statement given');
  const settings = commandSettings(options.config);
  const warehouse = await openWarehouse(settings);
  const out = options.out ?? process.stdout;
  try {
    let rows: Record<string, unknown>[] = [];
    for (const [i, statement] of statements.entries()) {
      rows = await warehouse.query(statement);
      // table and csv results are told apart by a blank line; JSON lines stay one row per line
      if (i > 0 && options.format !== 'json') out.write('\n');
      out.write(formatRows(rows, options.format ?? 'table', { wide: options.wide }));
    }
    return rows;
  } finally {
    await warehouse.close();
  }
}

/**
 * The statements of a SQL text, split at semicolons outside quotes ('…', "…", `…`) and comments (line and block);
 * empty statements are dropped.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === '`') {
      i = closingQuote(sql, i);
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else {
      if (c === ';') {
        statements.push(sql.slice(start, i));
        start = i + 1;
      }
      i++;
    }
  }
  statements.push(sql.slice(start));
  return statements.map((s) => s.trim()).filter((s) => s !== '' && !/^(--[^\n]*\n?|\/\*[\s\S]*?\*\/|\s)*$/.test(s));
}

/** The index after the quote that closes the one at `open` (a doubled quote is an escaped one). */
function closingQuote(sql: string, open: number): number {
  const quote = sql[open]!;
  let i = open + 1;
  while (i < sql.length) {
    if (sql[i] === '\\' && quote === "'")
      i += 2; // ClickHouse escapes with a backslash
    else if (sql[i] === quote && sql[i + 1] === quote) i += 2;
    else if (sql[i] === quote) return i + 1;
    else i++;
  }
  return sql.length;
}

export function formatRows(
  rows: Record<string, unknown>[],
  format: SqlFormat,
  options: { wide?: boolean } = {},
): string {
  if (format === 'json') return rows.map((r) => JSON.stringify(r, jsonReplacer)).join('\n') + (rows.length ? '\n' : '');
  const columns = columnsOf(rows);
  if (format === 'csv') {
    const lines = [columns.map((c) => csvField(c)).join(',')];
    for (const row of rows)
      lines.push(columns.map((c) => csvField(cell(row[c]), isNumber(row[c]) ? 'number' : 'text')).join(','));
    return `${lines.join('\n')}\n`;
  }
  return formatTable(columns, rows, options.wide ? Infinity : MAX_CELL);
}

const jsonReplacer = (_key: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : value);

function columnsOf(rows: Record<string, unknown>[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const k of Object.keys(row)) seen.add(k);
  return [...seen];
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value, jsonReplacer);
}

const isNumber = (value: unknown) => typeof value === 'number' || typeof value === 'bigint';

/** Longest cell of the table format without --wide (csv and json always hold every value in full). */
const MAX_CELL = 60;

function formatTable(columns: string[], rows: Record<string, unknown>[], maxCell: number): string {
  if (columns.length === 0) return `(${rows.length} rows)\n`;
  const texts = rows.map((row) =>
    columns.map((c) => {
      const t = cell(row[c]).replace(/\s+/g, ' ');
      return t.length > maxCell ? `${t.slice(0, maxCell - 1)}…` : t;
    }),
  );
  const numeric = columns.map(
    (c) =>
      rows.length > 0 &&
      rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === 'number' || typeof r[c] === 'bigint'),
  );
  const widths = columns.map((c, i) => Math.max(c.length, ...texts.map((t) => t[i]!.length)));
  const pad = (text: string, i: number) => (numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const lines = [columns.map(pad).join('  ').trimEnd(), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const t of texts) lines.push(t.map(pad).join('  ').trimEnd());
  lines.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return `${lines.join('\n')}\n`;
}
