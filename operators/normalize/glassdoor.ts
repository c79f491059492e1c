import { asObject, clipTitle, optString, parsedValue, reject, validatePosting } from './common.ts';
import type { JobPosting } from '../../schemas/job-posting.ts';
import { glassdoorId, type RawPosting } from '../../schemas/raw-posting.ts';
import { parseSalaryEstimate, type Salary, salaryFields } from './salary.ts';
import { rememberTokens } from './posting-tokens.ts';
import { htmlToText, skillsOfTokens, tokenize } from './text.ts';

/** Glassdoor uses "-1" for a missing value. */
const present = (v: string | null): string | null => (v === null || v === '-1' ? null : v);

/** "MedBill\n4.4" → "MedBill": the company column carries the rating on a second line. */
const companyName = (v: string | null): string | null => {
  const name =
    present(v)
      ?.replace(/\n\s*-?\d+(\.\d+)?\s*$/, '')
      .trim() ?? null;
  return name === '' ? null : name;
};

const REQUIRED = ['title', 'description'] as const;

export function normalizeGlassdoor(rec: RawPosting, now = Date.now()): JobPosting {
  const row = asObject(parsedValue(rec), 'Glassdoor row');
  if (typeof row.csv_error === 'string') reject(`malformed CSV in ${String(row.file ?? 'file')}: ${row.csv_error}`);
  for (const field of REQUIRED) {
    if (row[field] === undefined) reject(`CSV row is missing the '${field}' column (too few columns?)`);
  }
  const rawTitle = optString(row, 'title');
  if (rawTitle === null || present(rawTitle) === null) return reject("empty title: 'Job Title' is blank");
  const title = clipTitle(rawTitle.replace(/\s+/g, ' '));
  const description = htmlToText(present(optString(row, 'description')) ?? '');
  if (description === '') reject("empty description: 'Job Description' is blank");
  // no label is fine (an export without one); a label that is there must be a class
  const label = row.label ?? null;
  if (label !== 0 && label !== 1 && label !== null) reject(`label must be 0 or 1, got ${JSON.stringify(label)}`);
  let salary: Salary;
  try {
    salary = parseSalaryEstimate(optString(row, 'salary'));
  } catch (err) {
    return reject((err as Error).message);
  }
  const fields = {
    title: rawTitle,
    company: optString(row, 'company') ?? '',
    location: optString(row, 'location') ?? '',
    description: optString(row, 'description') ?? '',
  };
  const id = optString(row, 'id') ?? glassdoorId(fields);
  const tokens = tokenize(`${title}\n${description}`);
  const posting = validatePosting(
    {
      id,
      source: 'glassdoor',
      title,
      company: companyName(optString(row, 'company')),
      location: present(optString(row, 'location')),
      description,
      skills: skillsOfTokens(tokens),
      ...salaryFields(salary),
      seniority: null,
      employment_type: null,
      // the 2020 scrape has no date column
      posted_at: null,
      scraped_at: null,
      url: null,
      label: label as 0 | 1 | null,
    },
    now,
  );
  return rememberTokens(posting, tokens);
}
