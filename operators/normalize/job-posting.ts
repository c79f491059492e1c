import type { JobPosting as JobPostingRecord } from '../../schemas/job-posting.ts';

/**
 * The normalized job posting every postings source is turned into: the Avro record of schemas/job-posting.ts
 * (the single source of truth for its fields), with `source` and `label` narrowed to the values normalizers emit.
 */
export type PostingSource = 'brightdata-linkedin' | 'glassdoor' | 'hn-2013-2018' | 'hn-2026';

export const POSTING_SOURCES: readonly PostingSource[] = [
  'brightdata-linkedin',
  'glassdoor',
  'hn-2013-2018',
  'hn-2026',
];

export interface JobPosting extends JobPostingRecord {
  source: PostingSource;
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
