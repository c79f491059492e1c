import { isUtf8 } from 'node:buffer';
import type { JobPosting } from '../../schemas/job-posting.ts';
import type { RawPosting } from '../../schemas/raw-posting.ts';

export const MAX_DESCRIPTION_BYTES = 1024 * 1024;
export const DAY_MS = 86_400_000;
/** Longest title kept (HN titles come from free text). */
export const MAX_TITLE_CHARS = 300;

/** A rejection: the message says, for a person, why the record cannot become a JobPosting. */
export class PostingRejected extends Error {
  override name = 'PostingRejected';
}

export const reject = (reason: string): never => {
  throw new PostingRejected(reason);
};

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return reject(`${what} must be a JSON object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

/** A string field, or null when absent / null / blank; any other type is rejected. */
export function optString(obj: Record<string, unknown>, field: string): string | null {
  const v = obj[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') return reject(`field '${field}' must be a string or null, got ${describe(v)}`);
  const t = v.trim();
  return t === '' ? null : t;
}

/** A finite number, or null when absent / null; numeric strings are accepted ("120000"); anything else rejected. */
export function optNumber(obj: Record<string, unknown>, field: string): number | null {
  const v = obj[field];
  if (v === undefined || v === null || v === '') return null;
  const n =
    typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isFinite(n))
    return reject(`field '${field}' must be a number or null, got ${describe(v)} ${JSON.stringify(v)?.slice(0, 40)}`);
  return n;
}

/** An identifier: a non-empty string or a non-negative integer (kept as its decimal string). */
export function requireId(obj: Record<string, unknown>, field: string): string {
  const v = obj[field];
  if (v === undefined || v === null) return reject(`missing id: field '${field}' is absent or null`);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v !== 'string') return reject(`id field '${field}' must be a string or integer, got ${describe(v)}`);
  if (v.trim() === '') return reject(`missing id: field '${field}' is empty`);
  return v.trim();
}

/** An ISO-8601 (or other Date.parse-able) string, or null when absent; unparseable text is rejected. */
export function optDate(obj: Record<string, unknown>, field: string): number | null {
  const v = obj[field];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') return reject(`date field '${field}' must be a string, got ${describe(v)}`);
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) return reject(`unparseable date in '${field}': ${JSON.stringify(v.slice(0, 60))}`);
  return ms;
}

/**
 * The parsed value of a raw record. A connector leaves `value` undefined when the bytes could not be parsed; the
 * bytes are then checked here so the reason names the real problem (invalid UTF-8 vs. malformed JSON).
 */
export function parsedValue(rec: RawPosting): unknown {
  if (!isUtf8(rec.raw)) return reject(`record is not valid UTF-8 (${rec.raw.length} bytes)`);
  if (rec.value !== undefined) return rec.value;
  const text = rec.raw.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    return reject(`malformed or truncated JSON (${(err as Error).message})`);
  }
}

/** A character a person can see: not a control, format, unassigned or private-use character (\p{C}) nor a space. */
const VISIBLE = /[^\p{C}\p{Z}\s]/u;

/** 'empty title' / 'title has no visible characters…': a text field that says nothing (trim() keeps NULs). */
function blankText(field: 'title' | 'description', text: string): string | undefined {
  if (text.trim() === '') return `empty ${field}`;
  if (!VISIBLE.test(text)) return `${field} has no visible characters (only control or format characters, e.g. NUL)`;
  return undefined;
}

/** Checks shared by every source; returns the posting unchanged or throws the reason. */
export function validatePosting(p: JobPosting, now = Date.now()): JobPosting {
  if (p.id === '') reject('missing id');
  const blank = blankText('title', p.title) ?? blankText('description', p.description);
  if (blank) reject(blank);
  // length * 3 bounds the UTF-8 size of a UTF-16 string, so the byte count is only taken for long texts
  if (p.description.length * 3 > MAX_DESCRIPTION_BYTES) {
    const bytes = Buffer.byteLength(p.description, 'utf8');
    if (bytes > MAX_DESCRIPTION_BYTES)
      reject(`description is ${bytes.toLocaleString('en-US')} bytes, over the 1 MB limit`);
  }
  const reference = p.scraped_at ?? now;
  if (p.scraped_at !== null && p.scraped_at > now + DAY_MS)
    reject(`scraped_at ${new Date(p.scraped_at).toISOString()} is more than a day in the future`);
  if (p.posted_at !== null && p.posted_at > reference + DAY_MS) {
    reject(
      `posted_at ${new Date(p.posted_at).toISOString()} is more than a day ` +
        `after ${p.scraped_at !== null ? 'scraped_at' : 'now'} (${new Date(reference).toISOString()})`,
    );
  }
  if (p.salary_min !== null && p.salary_max !== null && p.salary_min > p.salary_max)
    reject(`salary_min ${p.salary_min} is above salary_max ${p.salary_max}`);
  return p;
}

/** A title from free text: first line, capped. */
export function clipTitle(text: string): string {
  const t = text.trim();
  return t.length > MAX_TITLE_CHARS ? `${t.slice(0, MAX_TITLE_CHARS - 1).trimEnd()}…` : t;
}
