import { createHash } from 'node:crypto';
import type { PostingSource } from './job-posting.ts';

/**
 * One record as a postings connector reads it (connectors/postings): `raw` holds the original bytes of that one
 * record (a CSV line, an NDJSON line, or JSON.stringify of an array element), `value` the parsed form (undefined when
 * it could not be parsed: the normalizer then rejects it with the reason, and the runtime dead-letters `raw`).
 * The normalizers (operators/normalize) turn it into a `JobPosting`.
 */
export interface RawPosting {
  raw: Buffer;
  source: PostingSource;
  value: unknown;
}

/**
 * What the CSV connector emits per row: the columns renamed (the Glassdoor layout of config/postings-csv.json, or
 * the user's --csv-map), the label (from a label column or the file name; null: none), and the stable id. Fields are
 * undefined when the row lacks the column; a label cell that is not 0 or 1 is kept as text, to be rejected here.
 */
export interface GlassdoorRow {
  id?: string;
  title?: string;
  company?: string;
  location?: string;
  description?: string;
  salary?: string;
  label?: 0 | 1 | null | string;
  file?: string;
  /** Set instead of the fields when the file could not be parsed as CSV. */
  csv_error?: string;
}

/** Stable id: sha1 of title, company, location and description as found in the file (duplicate rows share it). */
export function glassdoorId(row: Pick<GlassdoorRow, 'title' | 'company' | 'location' | 'description'>): string {
  return createHash('sha1')
    .update([row.title ?? '', row.company ?? '', row.location ?? '', row.description ?? ''].join('\u0000'))
    .digest('hex')
    .slice(0, 20);
}

/** What the HN 2013–2018 connector emits: the month from the file name and the post as found in the file. */
export interface Hn2013Value {
  month: string;
  post: unknown;
}

/** What the HN 2026 connector emits: the run's date and fetch time, and the job as found in raw.json. */
export interface Hn2026Value {
  run: string;
  fetched_at: string | null;
  job: unknown;
}
