import avro from 'avsc';
import type { AvroType } from './avro-type.ts';

/** A job advert from any of the scraped/archived sources, normalised to one shape. */
export const JobPostingSchema = {
  type: 'record',
  name: 'JobPosting',
  namespace: 'driftline',
  doc: 'A job posting normalised from one of the ingestion sources.',
  fields: [
    { name: 'id', type: 'string' },
    {
      name: 'source',
      type: 'string',
      doc: "Origin of the record, e.g. 'brightdata-linkedin', 'glassdoor', 'hn-2013-2018', 'hn-2026'.",
    },
    { name: 'title', type: 'string' },
    { name: 'company', type: ['null', 'string'], default: null },
    { name: 'location', type: ['null', 'string'], default: null },
    { name: 'description', type: 'string', doc: 'Plain text (HTML stripped).' },
    { name: 'skills', type: { type: 'array', items: 'string' }, default: [], doc: 'Skill keywords.' },
    { name: 'salary_min', type: ['null', 'double'], default: null },
    { name: 'salary_max', type: ['null', 'double'], default: null },
    { name: 'salary_currency', type: ['null', 'string'], default: null },
    { name: 'salary_period', type: ['null', 'string'], default: null, doc: "'year', 'month', 'hour', ..." },
    { name: 'seniority', type: ['null', 'string'], default: null },
    { name: 'employment_type', type: ['null', 'string'], default: null },
    { name: 'posted_at', type: ['null', 'long'], default: null, doc: 'Epoch milliseconds.' },
    { name: 'scraped_at', type: ['null', 'long'], default: null, doc: 'Epoch milliseconds.' },
    { name: 'url', type: ['null', 'string'], default: null },
    {
      name: 'label',
      type: ['null', 'int'],
      default: null,
      doc: '0 = software engineering, 1 = data science; null when unknown.',
    },
  ],
} as const;

/** The Avro record as the schema defines it; `JobPosting` below narrows `source` and `label`. */
export type JobPostingRecord = AvroType<typeof JobPostingSchema>;

export const JobPostingType = avro.Type.forSchema(
  JobPostingSchema as unknown as Parameters<typeof avro.Type.forSchema>[0],
);

/** Where a posting came from: one value per postings connector. */
export type PostingSource = 'brightdata-linkedin' | 'glassdoor' | 'hn-2013-2018' | 'hn-2026';

export const POSTING_SOURCES: readonly PostingSource[] = [
  'brightdata-linkedin',
  'glassdoor',
  'hn-2013-2018',
  'hn-2026',
];

/**
 * The normalized job posting every postings source is turned into (operators/normalize): the Avro record above (the
 * single source of truth for its fields), with `source` and `label` narrowed to the values normalizers emit.
 */
export interface JobPosting extends JobPostingRecord {
  source: PostingSource;
  /** 0 = software engineering, 1 = data science (Glassdoor, by file); null where the source has no label. */
  label: 0 | 1 | null;
}
