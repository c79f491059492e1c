import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { glassdoorId, type GlassdoorRow } from '../../operators/normalize/glassdoor.ts';
import type { RawPosting } from '../../operators/normalize/job-posting.ts';
import { BATCH, inBatches } from './batches.ts';

/** config/postings-csv.json: CSV header → JobPosting-side field, and the label of each file by name. */
export interface PostingsCsvConfig {
  columns: Record<string, string>;
  labels: Record<string, 0 | 1>;
}

export const DEFAULT_CSV_CONFIG_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'config', 'postings-csv.json');

export function loadPostingsCsvConfig(path = DEFAULT_CSV_CONFIG_PATH): PostingsCsvConfig {
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as PostingsCsvConfig;
  if (typeof cfg.columns !== 'object' || typeof cfg.labels !== 'object') throw new Error(`${path}: expected {columns, labels}`);
  return cfg;
}

export interface GlassdoorReadOptions {
  config?: PostingsCsvConfig;
  /** Drop rows whose stable id (hash of title, company, location, description) was already seen. Default true. */
  dedupe?: boolean;
  batchSize?: number;
}

/**
 * Glassdoor CSV exports. Columns are renamed by the config; the label comes from the file name
 * (software_engineer.csv → 0, data_science.csv → 1). data_science.csv has an extra, unnamed leading index column:
 * columns are matched by header name, so it is simply ignored.
 *
 * data_science.csv also holds Data Engineer / Data Analyst (and similar) titles. They keep label 1: the label records
 * the search the posting came from (the data-science search), not a judgement on the title, and relabelling by
 * title would invent labels the source does not have.
 *
 * Duplicate rows exist: with `dedupe` (default), a row whose id was seen earlier (in this or an earlier file of the
 * same call) is dropped. Each record's `raw` is the row's original bytes from the file (without the line ending).
 */
export async function* readGlassdoor(files: string[], options: GlassdoorReadOptions = {}): AsyncGenerator<RawPosting[]> {
  const config = options.config ?? loadPostingsCsvConfig();
  const dedupe = options.dedupe ?? true;
  const seen = new Set<string>();
  for (const file of files) {
    const label = config.labels[basename(file)];
    if (label !== 0 && label !== 1) throw new Error(`${file}: no label configured for ${basename(file)} in postings-csv config`);
    const records = glassdoorRecords(await readFile(file), basename(file), label, config, dedupe ? seen : null);
    yield* inBatches(records, options.batchSize ?? BATCH);
  }
}

/**
 * The rows of one Glassdoor CSV file (already read) as raw records. `seen` holds the ids met so far (shared across
 * files for cross-file dedupe); null disables dedupe. Pure apart from updating `seen`.
 */
export function* glassdoorRecords(bytes: Buffer, fileName: string, label: 0 | 1, config: PostingsCsvConfig, seen: Set<string> | null): Generator<RawPosting> {
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
    while (raw.length > 0 && (raw[raw.length - 1] === 0x0a || raw[raw.length - 1] === 0x0d)) raw = raw.subarray(0, raw.length - 1);
    const value: GlassdoorRow = { label, file: fileName };
    for (const [header, field] of Object.entries(config.columns)) {
      const cell = record[header];
      if (cell !== undefined) (value as Record<string, unknown>)[field] = cell;
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
