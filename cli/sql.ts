/** `driftline sql "<query>"`: runs a query against the warehouse (ClickHouse if CLICKHOUSE_URL is set, else DuckDB). */
import { loadSettings } from '../config/settings.ts';
import { openWarehouse } from '../connectors/warehouse/warehouse.ts';
import { csvField } from './csv.ts';

export type SqlFormat = 'table' | 'json' | 'csv';

export interface SqlCommandOptions {
  format?: SqlFormat;
  config?: string;
  /** Where to print (default process.stdout). */
  out?: NodeJS.WritableStream;
}

export async function sqlCommand(query: string, options: SqlCommandOptions = {}): Promise<Record<string, unknown>[]> {
  const settings = loadSettings(process.env, options.config);
  const warehouse = await openWarehouse(settings);
  try {
    const rows = await warehouse.query(query);
    (options.out ?? process.stdout).write(formatRows(rows, options.format ?? 'table'));
    return rows;
  } finally {
    await warehouse.close();
  }
}

export function formatRows(rows: Record<string, unknown>[], format: SqlFormat): string {
  if (format === 'json') return rows.map((r) => JSON.stringify(r, jsonReplacer)).join('\n') + (rows.length ? '\n' : '');
  const columns = columnsOf(rows);
  if (format === 'csv') {
    const lines = [columns.map((c) => csvField(c)).join(',')];
    for (const row of rows) lines.push(columns.map((c) => csvField(cell(row[c]), isNumber(row[c]) ? 'number' : 'text')).join(','));
    return lines.join('\n') + '\n';
  }
  return formatTable(columns, rows);
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

const MAX_CELL = 60;

function formatTable(columns: string[], rows: Record<string, unknown>[]): string {
  if (columns.length === 0) return `(${rows.length} rows)\n`;
  const texts = rows.map((row) =>
    columns.map((c) => {
      const t = cell(row[c]).replace(/\s+/g, ' ');
      return t.length > MAX_CELL ? `${t.slice(0, MAX_CELL - 1)}…` : t;
    }),
  );
  const numeric = columns.map((c) => rows.length > 0 && rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === 'number' || typeof r[c] === 'bigint'));
  const widths = columns.map((c, i) => Math.max(c.length, ...texts.map((t) => t[i]!.length)));
  const pad = (text: string, i: number) => (numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const lines = [columns.map(pad).join('  ').trimEnd(), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const t of texts) lines.push(t.map(pad).join('  ').trimEnd());
  lines.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return lines.join('\n') + '\n';
}
