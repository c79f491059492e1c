import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { glassdoorId, type GlassdoorRow, type RawPosting } from '../../schemas/raw-posting.ts';
import { BATCH, inBatches } from './batches.ts';
import { type CsvColumns, csvColumnsFor, csvHeader, labelCell } from './csv-columns.ts';

/**
 * config/postings-csv.json: the Glassdoor export's columns (header → posting field), by which its header is
 * recognised, and the label of the project's own Glassdoor files by file name (the search each file came from).
 */
export interface PostingsCsvConfig {
  columns: CsvColumns;
  labels: Record<string, 0 | 1>;
}

export const DEFAULT_CSV_CONFIG_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'config',
  'postings-csv.json',
);

export function loadPostingsCsvConfig(path = DEFAULT_CSV_CONFIG_PATH): PostingsCsvConfig {
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as PostingsCsvConfig;
  if (typeof cfg.columns !== 'object' || typeof cfg.labels !== 'object')
    throw new Error(`${path}: expected {columns, labels}`);
  return cfg;
}

export interface GlassdoorReadOptions {
  config?: PostingsCsvConfig;
  /** The user's column map (`--csv-map`, csv-columns.ts), used for files whose header has its columns. */
  csvMap?: CsvColumns;
  /** Drop rows whose stable id (hash of title, company, location, description) was already seen. Default true. */
  dedupe?: boolean;
  batchSize?: number;
  /** Told each file's columns and label once its header is read (the topic messages carry them). */
  onFile?: (file: string, layout: CsvFileLayout) => void;
}

/** How one CSV file is read: its columns and the label its file name gives (null: none). */
export interface CsvFileLayout {
  header: string;
  columns: CsvColumns;
  label: 0 | 1 | null;
}

/**
 * CSV exports of job postings. The Glassdoor export is recognised by its header, under any file name; other layouts
 * need a column map (`--csv-map`). A label comes from a column mapped to `label` (0/1 per row), else from the file
 * name for the project's Glassdoor files (software_engineer.csv → 0, data_science.csv → 1), else there is none: the
 * posting is stored with no label, never a made-up one. data_science.csv has an extra, unnamed leading index column:
 * columns are matched by header name, so it is simply ignored.
 *
 * data_science.csv also holds Data Engineer / Data Analyst (and similar) titles. They keep label 1: the label records
 * the search the posting came from (the data-science search), not a judgement on the title, and relabelling by
 * title would invent labels the source does not have.
 *
 * Duplicate rows exist: with `dedupe` (default), a row whose id was seen earlier (in this or an earlier file of the
 * same call) is dropped. Each record's `raw` is the row's original bytes from the file (without the line ending).
 */
export async function* readGlassdoor(
  files: string[],
  options: GlassdoorReadOptions = {},
): AsyncGenerator<RawPosting[]> {
  const config = options.config ?? loadPostingsCsvConfig();
  const dedupe = options.dedupe ?? true;
  const seen = new Set<string>();
  for (const file of files) {
    const bytes = await readFile(file);
    const layout = csvFileLayout(file, bytes, config, options.csvMap);
    options.onFile?.(file, layout);
    const records = glassdoorRecords(
      bytes,
      basename(file),
      layout.label,
      { ...config, columns: layout.columns },
      dedupe ? seen : null,
    );
    yield* inBatches(records, options.batchSize ?? BATCH);
  }
}

/** The columns and file-name label of one CSV file (an error naming the header when its layout is unknown). */
export function csvFileLayout(
  file: string,
  bytes: Buffer,
  config: PostingsCsvConfig,
  csvMap?: CsvColumns,
): CsvFileLayout {
  const end = bytes.indexOf(0x0a);
  const header = bytes
    .subarray(0, end < 0 ? bytes.length : end)
    .toString('utf8')
    .replace(/\r$/, '');
  const columns = csvColumnsFor(file, csvHeader(bytes), config.columns, csvMap);
  const byName = config.labels[basename(file)];
  // a file-name label belongs to the Glassdoor files it was written for, not to a user's own layout
  const label = columns === config.columns && (byName === 0 || byName === 1) ? byName : null;
  return { header, columns, label };
}

/**
 * The rows of one Glassdoor CSV file (already read) as raw records. `seen` holds the ids met so far (shared across
 * files for cross-file dedupe); null disables dedupe. Pure apart from updating `seen`.
 */
export function* glassdoorRecords(
  bytes: Buffer,
  fileName: string,
  label: 0 | 1 | null,
  config: PostingsCsvConfig,
  seen: Set<string> | null,
): Generator<RawPosting> {
  let rows: { record: Record<string, string>; info: { bytes: number } }[];
  try {
    rows = parse(bytes, { columns: true, info: true, relax_column_count: true, skip_empty_lines: true, bom: true });
  } catch (err) {
    // a structurally broken file (e.g. an unclosed quote) cannot be split into rows: one record, rejected downstream
    yield { raw: bytes, source: 'glassdoor', value: { csv_error: (err as Error).message, file: fileName } };
    return;
  }
  // info.bytes is the byte offset after each record: consecutive offsets delimit the record's original bytes
  let start = bytes.indexOf(0x0a) + 1;
  for (const { record, info } of rows) {
    let raw = bytes.subarray(start, info.bytes);
    start = info.bytes;
    while (raw.length > 0 && (raw[raw.length - 1] === 0x0a || raw[raw.length - 1] === 0x0d))
      raw = raw.subarray(0, raw.length - 1);
    const value: GlassdoorRow = { label, file: fileName };
    for (const [header, field] of Object.entries(config.columns)) {
      const cell = record[header];
      if (field === 'label') value.label = cell === undefined ? label : labelCell(cell);
      else if (cell !== undefined) value[field] = cell;
    }
    value.id = glassdoorId({
      title: value.title?.trim(),
      company: value.company?.trim(),
      location: value.location?.trim(),
      description: value.description?.trim(),
    });
    if (seen !== null) {
      if (seen.has(value.id)) continue;
      seen.add(value.id);
    }
    yield { raw: Buffer.from(raw), source: 'glassdoor', value };
  }
}
