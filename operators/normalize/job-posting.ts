/**
 * The normalized job posting every postings source is turned into. Plain TypeScript for now: it will be replaced by
 * the Avro-derived type (schemas/) with the same field names.
 */
export type PostingSource = 'brightdata-linkedin' | 'glassdoor' | 'hn-2013-2018' | 'hn-2026';

export const POSTING_SOURCES: readonly PostingSource[] = ['brightdata-linkedin', 'glassdoor', 'hn-2013-2018', 'hn-2026'];

export interface JobPosting {
  id: string;
  source: PostingSource;
  title: string;
  company: string | null;
  location: string | null;
  /** Plain text (HTML stripped, entities decoded). */
  description: string;
  /** Keywords from the curated vocabulary in skills.ts, first-seen order, no duplicates. */
  skills: string[];
  salary_min: number | null;
  salary_max: number | null;
  salary_currency: string | null;
  /** 'year' | 'month' | 'week' | 'day' | 'hour' */
  salary_period: string | null;
  seniority: string | null;
  employment_type: string | null;
  /** Epoch milliseconds. */
  posted_at: number | null;
  /** Epoch milliseconds. */
  scraped_at: number | null;
  url: string | null;
  /** 0 = software engineering, 1 = data science (Glassdoor, by file); null where the source has no label. */
  label: 0 | 1 | null;
}

/**
 * One record as a postings connector reads it: `raw` holds the original bytes of that one record (a CSV line, an
 * NDJSON line, or JSON.stringify of an array element), `value` the parsed form (undefined when it could not be parsed:
 * the normalizer then rejects it with the reason, and the runtime dead-letters `raw`).
 */
export interface RawPosting {
  raw: Buffer;
  source: PostingSource;
  value: unknown;
}
