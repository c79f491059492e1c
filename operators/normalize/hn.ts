import { asObject, clipTitle, optDate, optString, parsedValue, reject, validatePosting } from './common.ts';
import { NO_SALARY, salaryFields } from './salary.ts';
import type { JobPosting } from '../../schemas/job-posting.ts';
import type { RawPosting } from '../../schemas/raw-posting.ts';
import { rememberTokens } from './posting-tokens.ts';
import { htmlToText, skillsOfTokens, tokenize } from './text.ts';

/** HN posts carry no structured salary, seniority or employment type. */
const HN_HAS_NONE = {
  ...salaryFields(NO_SALARY),
  seniority: null,
  employment_type: null,
} as const;

/**
 * Title and company from the first line of the post. HN posts open with "Company | Role | Location | ...":
 * the title is the first line up to the first '|' (or the whole first line when it has none), the company is the
 * first '|' field (null when the first line has no '|'). Leading '|' characters are ignored.
 */
export function hnHeader(text: string): { title: string; company: string | null } {
  const nl = text.indexOf('\n');
  // a few posts open with the separator itself ("| Company | Role", "|| Company ||"): leading bars are skipped
  const first = (nl === -1 ? text : text.slice(0, nl)).replace(/^[\s|]+/, '');
  const bar = first.indexOf('|');
  const head = (bar === -1 ? first : first.slice(0, bar)).trim();
  return { title: clipTitle(head), company: bar === -1 || head === '' ? null : head };
}

function fromText(html: string, what: string) {
  const description = htmlToText(html);
  if (description === '') reject(`empty description: '${what}' has no text`);
  const { title, company } = hnHeader(description);
  if (title === '') reject('empty title: the first line of the post is blank');
  return { description, title, company };
}

const MONTH = /^(\d{4})-(\d{2})$/;

export function normalizeHn2013(rec: RawPosting, now = Date.now()): JobPosting {
  const value = asObject(parsedValue(rec), 'HN 2013–2018 record');
  const month = value.month;
  const m = typeof month === 'string' ? MONTH.exec(month) : null;
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12)
    return reject(`unparseable date: month ${JSON.stringify(month)} is not YYYY-MM`);
  const post = asObject(value.post, 'HN post');
  const url = optString(post, 'url');
  const id = url === null ? null : (/[?&]id=(\d+)/.exec(url)?.[1] ?? null);
  if (id === null) return reject(`missing id: no 'id=' parameter in url ${JSON.stringify(url)}`);
  const html = post.full_html;
  if (typeof html !== 'string')
    return reject(`field 'full_html' must be a string, got ${html === null ? 'null' : typeof html}`);
  const { description, title, company } = fromText(html, 'full_html');
  const descriptionTokens = tokenize(description);
  const posting = validatePosting(
    {
      id,
      source: 'hn-2013-2018',
      title,
      company,
      location: optString(post, 'location') ?? optString(post, 'address'),
      description,
      skills: skillsOfTokens(descriptionTokens),
      ...HN_HAS_NONE,
      posted_at: Date.UTC(Number(m[1]), Number(m[2]) - 1, 1),
      scraped_at: null,
      url,
      label: null,
    },
    now,
  );
  // tokens never span the '\n', so the title's tokens then the description's are those of `${title}\n${description}`
  return rememberTokens(posting, [...tokenize(title), ...descriptionTokens]);
}

export function normalizeHn2026(rec: RawPosting, now = Date.now()): JobPosting {
  const value = asObject(parsedValue(rec), 'HN 2026 record');
  const job = asObject(value.job, 'HN job');
  const rawId = job.id;
  if (rawId === undefined || rawId === null || rawId === '') return reject("missing id: field 'id' is absent");
  if (
    !(typeof rawId === 'number' && Number.isSafeInteger(rawId) && rawId > 0) &&
    !(typeof rawId === 'string' && /^\d+$/.test(rawId))
  ) {
    return reject(`field 'id' must be a positive integer, got ${JSON.stringify(rawId)}`);
  }
  const id = String(rawId);
  const time = job.time;
  if (typeof time !== 'number' || !Number.isFinite(time))
    return reject(`unparseable date: 'time' must be unix seconds, got ${JSON.stringify(time)}`);
  const text = job.text;
  if (typeof text !== 'string')
    return reject(`field 'text' must be a string, got ${text === null ? 'null' : typeof text} (deleted post?)`);
  const { description, title, company } = fromText(text, 'text');
  const descriptionTokens = tokenize(description);
  const posting = validatePosting(
    {
      id,
      source: 'hn-2026',
      title,
      company,
      location: null,
      description,
      skills: skillsOfTokens(descriptionTokens),
      ...HN_HAS_NONE,
      posted_at: time * 1000,
      scraped_at: optDate(value, 'fetched_at'),
      url: `https://news.ycombinator.com/item?id=${id}`,
      label: null,
    },
    now,
  );
  // tokens never span the '\n', so the title's tokens then the description's are those of `${title}\n${description}`
  return rememberTokens(posting, [...tokenize(title), ...descriptionTokens]);
}
