import {
  asObject,
  clipTitle,
  optDate,
  optNumber,
  optString,
  parsedValue,
  reject,
  requireId,
  validatePosting,
} from './common.ts';
import type { JobPosting } from '../../schemas/job-posting.ts';
import type { RawPosting } from '../../schemas/raw-posting.ts';
import { resolveRelativeDate } from './relative-date.ts';
import { normalizePeriod, NO_SALARY, type Salary, salaryFields } from './salary.ts';
import { rememberTokens } from './posting-tokens.ts';
import { htmlToText, skillsOfTokens, tokenize } from './text.ts';

function baseSalary(obj: Record<string, unknown>): Salary {
  const v = obj.base_salary;
  if (v === undefined || v === null) return NO_SALARY;
  const s = asObject(v, "field 'base_salary'");
  const currency = optString(s, 'currency');
  return {
    min: optNumber(s, 'min_amount'),
    max: optNumber(s, 'max_amount'),
    currency: currency === null ? null : currency.toUpperCase(),
    period: normalizePeriod(optString(s, 'payment_period')),
  };
}

/**
 * A Bright Data LinkedIn scraper record → JobPosting. Description: `job_description_formatted` (HTML) stripped,
 * else `job_summary`. posted_at: `job_posted_date` when present, else the relative `job_posted_time` ("1 week ago")
 * resolved against the record's `timestamp` (the scrape time, which is also scraped_at).
 */
export function normalizeBrightData(rec: RawPosting, now = Date.now()): JobPosting {
  const obj = asObject(parsedValue(rec), 'Bright Data record');
  const id = requireId(obj, 'job_posting_id');
  const rawTitle = obj.job_title;
  if (rawTitle === undefined || rawTitle === null) reject("empty title: 'job_title' is missing");
  if (typeof rawTitle !== 'string') return reject(`field 'job_title' must be a string, got ${typeof rawTitle}`);
  const title = clipTitle(htmlToText(rawTitle).replace(/\n/g, ' '));
  if (title === '') reject("empty title: 'job_title' is blank");

  const html = optString(obj, 'job_description_formatted');
  const summary = optString(obj, 'job_summary');
  const description = html !== null ? htmlToText(html) : summary !== null ? htmlToText(summary) : '';
  if (description === '') reject("empty description: neither 'job_description_formatted' nor 'job_summary' has text");

  const scrapedAt = optDate(obj, 'timestamp');
  let postedAt = optDate(obj, 'job_posted_date');
  const relative = optString(obj, 'job_posted_time');
  if (postedAt === null && relative !== null) {
    postedAt = resolveRelativeDate(relative, scrapedAt ?? now);
    if (postedAt === null)
      reject(`unparseable relative date in 'job_posted_time': ${JSON.stringify(relative.slice(0, 60))}`);
  }
  const salary = baseSalary(obj);
  const tokens = tokenize(`${title}\n${description}`);
  const posting = validatePosting(
    {
      id,
      source: 'brightdata-linkedin',
      title,
      company: optString(obj, 'company_name'),
      location: optString(obj, 'job_location'),
      description,
      skills: skillsOfTokens(tokens),
      ...salaryFields(salary),
      seniority: optString(obj, 'job_seniority_level'),
      employment_type: optString(obj, 'job_employment_type'),
      posted_at: postedAt,
      scraped_at: scrapedAt,
      url: optString(obj, 'url'),
      label: null,
    },
    now,
  );
  return rememberTokens(posting, tokens);
}
