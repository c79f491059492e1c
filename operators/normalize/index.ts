import { normalizeBrightData } from './brightdata.ts';
import { normalizeGlassdoor } from './glassdoor.ts';
import { normalizeHn2013, normalizeHn2026 } from './hn.ts';
import type { JobPosting, PostingSource } from '../../schemas/job-posting.ts';
import type { RawPosting } from '../../schemas/raw-posting.ts';

export type { JobPosting, PostingSource } from '../../schemas/job-posting.ts';
export type { RawPosting } from '../../schemas/raw-posting.ts';
export { PostingRejected } from './common.ts';

const BY_SOURCE: Record<PostingSource, (rec: RawPosting, now?: number) => JobPosting> = {
  'brightdata-linkedin': normalizeBrightData,
  glassdoor: normalizeGlassdoor,
  'hn-2013-2018': normalizeHn2013,
  'hn-2026': normalizeHn2026,
};

/** raw → JobPosting for any postings source; throws an Error whose message is the rejection reason. */
export function normalizePosting(rec: RawPosting, now = Date.now()): JobPosting {
  const fn = BY_SOURCE[rec.source];
  if (fn === undefined) throw new Error(`unknown postings source ${JSON.stringify(rec.source)}`);
  return fn(rec, now);
}

/**
 * When a posting was posted, as its normalizer reads it (HN 2013–2018: the month of the file; HN 2026: the job's
 * `time`; Bright Data: `job_posted_date`, else the relative `job_posted_time` from the scrape time); null when it has
 * no date (Glassdoor) or the normalizer rejects it. The postings reader takes it as its `postedAt`.
 */
export function postedAt(rec: RawPosting, readTime: number): number | null {
  if (rec.source === 'glassdoor') return null;
  try {
    return normalizePosting(rec, readTime).posted_at ?? null;
  } catch {
    return null; // the pipeline rejects it again, with the reason, and dead-letters the original bytes
  }
}
