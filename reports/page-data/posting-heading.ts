/**
 * What a posting is, in a line: the role when the text names one, and the company. HN "Who is hiring?" posts start
 * with `Company | Role | Location | …`, and the normalizer keeps the company as the title, so a list of titles read
 * as a list of company names. The role is the first `|` segment after the company that reads like a job title.
 */
const ROLE = new RegExp(
  '\\b(engineers?|developers?|scientists?|analyst|architect|designer|manager|lead|researcher|director|head of|' +
    'intern|cto|devops|sre|programmer|consultant|specialist|founding|staff|principal)\\b',
  'i',
);
/** Excerpt length shown under a heading. */
export const EXCERPT_CHARS = 160;

export interface PostingHeading {
  /** The role when found (`Sr. Software Engineer`), else the stored title. */
  heading: string;
  /** The company when known and not already the heading. */
  company: string | null;
  /** The start of the text after its first line, whitespace collapsed. */
  excerpt: string;
}

export function postingHeading(p: { title?: unknown; company?: unknown; description?: unknown }): PostingHeading {
  const title = String(p.title ?? '').trim();
  const company = p.company === null || p.company === undefined ? null : String(p.company).trim();
  const text = String(p.description ?? '');
  const [first = '', ...rest] = text.split('\n');
  const segments = first
    .split('|')
    .map((s) => s.trim())
    .filter(Boolean);
  const role = segments.length > 1 ? segments.slice(1).find((s) => ROLE.test(s) && s.length <= 80) : undefined;
  const body = (segments.length > 1 || first.trim() === title ? rest.join(' ') : text).replace(/\s+/g, ' ').trim();
  const excerpt = body.length > EXCERPT_CHARS ? `${body.slice(0, EXCERPT_CHARS - 1)}…` : body;
  const heading = role ?? title;
  return { heading, company: company && company !== heading ? company : null, excerpt };
}
