import { normalizeBrightData } from './brightdata.ts';
import { normalizeGlassdoor } from './glassdoor.ts';
import { normalizeHn2013, normalizeHn2026 } from './hn.ts';
import type { JobPosting, PostingSource, RawPosting } from './job-posting.ts';

export type { JobPosting, PostingSource, RawPosting } from './job-posting.ts';
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
