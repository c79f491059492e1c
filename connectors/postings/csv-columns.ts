import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'csv-parse/sync';

/** The posting fields a CSV column can fill. `label` is a 0/1 class per row (empty: no label). */
export const CSV_POSTING_FIELDS = ['title', 'company', 'location', 'description', 'salary', 'label'] as const;
export type CsvPostingField = (typeof CSV_POSTING_FIELDS)[number];

/** CSV header → posting field. */
export type CsvColumns = Record<string, CsvPostingField>;

/** What every mapping must fill: a posting without them is rejected anyway. */
const REQUIRED: CsvPostingField[] = ['title', 'description'];

/**
 * `--csv-map`: `"<column>=<field>,..."` (e.g. `"Position=title,Text=description,Class=label"`), or the path of a JSON
 * file holding `{"<column>": "<field>", ...}` (or `{"columns": {...}}`, the layout of config/postings-csv.json).
 * A JSON object is taken as it is (the `csvMap` option of a --config file).
 */
export function parseCsvMap(spec: string | Record<string, unknown>): CsvColumns {
  if (typeof spec !== 'string') return checkedColumns(spec, 'csvMap');
  if (existsSync(spec) || /\.json$/i.test(spec)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(spec, 'utf8'));
    } catch (error) {
      throw new Error(`--csv-map ${spec}: ${(error as Error).message}`);
    }
    const object = parsed as { columns?: unknown } | null;
    const columns =
      object !== null && typeof object === 'object' && typeof object.columns === 'object' ? object.columns : parsed;
    return checkedColumns(columns, `--csv-map ${spec}`);
  }
  const pairs = spec.split(',').filter((p) => p.trim() !== '');
  const entries = pairs.map((pair) => {
    const at = pair.lastIndexOf('=');
    if (at <= 0)
      throw new Error(`--csv-map: "${pair}" is not <column>=<field> (fields: ${CSV_POSTING_FIELDS.join(', ')})`);
    return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
  });
  return checkedColumns(Object.fromEntries(entries), '--csv-map');
}

function checkedColumns(value: unknown, where: string): CsvColumns {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${where}: expected an object of "<column>": "<field>"`);
  const columns = value as Record<string, unknown>;
  for (const [column, field] of Object.entries(columns)) {
    if (!CSV_POSTING_FIELDS.includes(field as CsvPostingField)) {
      throw new Error(
        `${where}: column "${column}" maps to unknown field ${JSON.stringify(field)}; ` +
          `fields: ${CSV_POSTING_FIELDS.join(', ')}`,
      );
    }
  }
  const mapped = new Set(Object.values(columns));
  const missing = REQUIRED.filter((f) => !mapped.has(f));
  if (missing.length > 0)
    throw new Error(
      `${where}: no column maps to ${missing.join(' or ')} (every posting needs a title and a description)`,
    );
  return columns as CsvColumns;
}

/** The header row of a CSV file's bytes (empty when the file has none). */
export function csvHeader(bytes: Buffer): string[] {
  try {
    return (parse(bytes, { to_line: 1, bom: true, relax_column_count: true }) as string[][])[0] ?? [];
  } catch {
    return []; // a broken file: its rows are rejected downstream with the parser's reason
  }
}

/**
 * Which columns of this file fill which posting field: the user's map when the header has every column it names,
 * else the known Glassdoor export layout when the header has all its columns (whatever the file is called), else an
 * error that shows the header and how to map it.
 */
export function csvColumnsFor(file: string, header: string[], known: CsvColumns, userMap?: CsvColumns): CsvColumns {
  const has = new Set(header);
  if (userMap && Object.keys(userMap).every((c) => has.has(c))) return userMap;
  if (Object.keys(known).every((c) => has.has(c))) return known;
  const shown = header.map((h) => JSON.stringify(h)).join(', ') || 'none';
  if (userMap) {
    const absent = Object.keys(userMap).filter((c) => !has.has(c));
    throw new Error(
      `${basename(file)}: --csv-map names ${absent.map((c) => JSON.stringify(c)).join(', ')}, not in its header ` +
        `(${shown})`,
    );
  }
  throw new Error(
    `${basename(file)}: CSV header not recognised (columns ${shown}): not a Glassdoor export. ` +
      `Map its columns with --csv-map "<column>=title,<column>=description,..." ` +
      `(fields: ${CSV_POSTING_FIELDS.join(', ')})`,
  );
}

/**
 * A label cell: "0"/"1" → the class, empty → no label; anything else is kept, for the normalizer to reject by value.
 */
export function labelCell(cell: string | undefined): 0 | 1 | null | string {
  const text = (cell ?? '').trim();
  if (text === '') return null;
  if (text === '0' || text === '1') return Number(text) as 0 | 1;
  return text;
}
