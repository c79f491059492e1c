import { describe, expect, it } from 'vitest';
import { glassdoorRecords, jsonRecords, loadPostingsCsvConfig } from '../../connectors/postings/index.ts';
import { normalizePosting, PostingRejected, type PostingSource, type RawPosting } from './index.ts';

/**
 * A generated corpus of malformed postings inputs. Every case goes through the same path as real data (connector
 * record → normalizePosting) and must be rejected with its specific reason; valid inputs alongside must pass.
 */
const NOW = Date.parse('2026-06-01T00:00:00Z');
const FIVE_MB = 'x'.repeat(5 * 1024 * 1024);

const bd = (over: Record<string, unknown> = {}, drop: string[] = []): Record<string, unknown> => {
  const base: Record<string, unknown> = {
    url: 'https://www.linkedin.com/jobs/view/123',
    job_posting_id: '4096670538',
    job_title: 'Data Engineer',
    company_name: 'Acme',
    job_location: 'Bronx, NY',
    job_summary: 'Build pipelines with Python and Spark.',
    job_seniority_level: 'Entry level',
    job_employment_type: 'Full-time',
    job_posted_time: '1 week ago',
    job_posted_date: '2024-12-15T09:16:55.932Z',
    job_description_formatted: '<section><p>Build pipelines with <b>Python</b> &amp; Spark.</p></section>',
    base_salary: { min_amount: 90000, max_amount: 120000, currency: 'usd', payment_period: 'yr' },
    timestamp: '2024-12-22T09:16:55.951Z',
    ...over,
  };
  for (const k of drop) delete base[k];
  return base;
};
const hn13 = (post: Record<string, unknown> = {}, month: unknown = '2015-10') => ({
  month,
  post: {
    full_html: 'Acme | Backend Engineer | NYC<p>Python &amp; Go.',
    url: 'https://news.ycombinator.com/item?id=10313519',
    user: 'u',
    location: 'NYC',
    ...post,
  },
});
const hn26 = (job: Record<string, unknown> = {}, fetched_at: unknown = '2026-03-15T12:26:51.048Z') => ({
  run: '2026-03-15',
  fetched_at,
  job: { id: 46467610, by: 'u', time: 1767377545, text: 'MiLaboratories | Bilbao<p>We use <i>Go</i>.', ...job },
});

const rec = (source: PostingSource, value: unknown): RawPosting => ({
  raw: Buffer.from(JSON.stringify(value) ?? 'undefined'),
  source,
  value,
});
/** An NDJSON line as the Bright Data connector reads it (unparsed when malformed). */
const line = (bytes: Buffer | string): RawPosting => {
  const all = [...jsonRecords(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes), 'brightdata-linkedin')];
  expect(all).toHaveLength(1);
  return all[0]!;
};
const CSV_CONFIG = loadPostingsCsvConfig();
const HEADER =
  'Job Title,Salary Estimate,Job Description,Rating,Company Name,Location,Headquarters,Size,Founded,Type of ' +
  'ownership,Industry,Sector,Revenue,Competitors\n';
const csvRows = (body: Buffer | string, label: 0 | 1 = 0): RawPosting[] => [
  ...glassdoorRecords(
    Buffer.concat([Buffer.from(HEADER), Buffer.isBuffer(body) ? body : Buffer.from(body)]),
    'software_engineer.csv',
    label,
    CSV_CONFIG,
    new Set(),
  ),
];
const csv1 = (body: Buffer | string): RawPosting => {
  const rows = csvRows(body);
  expect(rows).toHaveLength(1);
  return rows[0]!;
};
const GOOD_CSV =
  'Software Engineer,$82K-$141K (Glassdoor est.),"Write C++ and Python.\nShip it.",4.4,"MedBill\n4.4","Boone, ' +
  'NC",x,x,x,x,x,x,x,x';

interface Case {
  name: string;
  input: () => RawPosting;
  reason: RegExp;
}
const cases: Case[] = [];
const add = (name: string, input: () => RawPosting, reason: RegExp) => cases.push({ name, input, reason });

// ---- truncated / malformed JSON (NDJSON lines, unparsed by the connector)
const full = JSON.stringify(bd());
for (const cut of [1, 5, 20, 50, 100, 200, 300, full.length - 40, full.length - 2, full.length - 1]) {
  add(`NDJSON line truncated at ${cut}`, () => line(full.slice(0, cut)), /malformed or truncated JSON/);
}
for (const bad of ['{job_title: "x"}', "{'a': 1}", '{"a": 1,}', '[1, 2', '{"a": undefined}', 'NaN', '{"a":"\\x41"}']) {
  add(`malformed JSON ${bad}`, () => line(bad), /malformed or truncated JSON/);
}
add(
  'JSON array file truncated',
  () => [...jsonRecords(Buffer.from(`[${full},${full.slice(0, 80)}`), 'brightdata-linkedin')][0]!,
  /malformed or truncated JSON/,
);

// ---- not an object
for (const v of [42, 'posting', [], null, true])
  add(`Bright Data value ${JSON.stringify(v)}`, () => rec('brightdata-linkedin', v), /must be a JSON object, got/);
add(
  'HN 2013 post is a string',
  () => rec('hn-2013-2018', { month: '2015-10', post: 'text' }),
  /HN post must be a JSON object, got string/,
);
add(
  'HN 2026 job is null',
  () => rec('hn-2026', { run: 'x', fetched_at: null, job: null }),
  /HN job must be a JSON object, got null/,
);

// ---- invalid UTF-8
const invalid: [string, number[]][] = [
  ['lone 0xff', [0xff]],
  ['lone continuation byte', [0x80]],
  ['truncated 2-byte sequence', [0xc3]],
  ['bad continuation', [0xc3, 0x28]],
  ['overlong slash', [0xc0, 0xaf]],
  ['UTF-16 surrogate encoded', [0xed, 0xa0, 0x80]],
  ['truncated 3-byte euro', [0xe2, 0x82]],
  ['code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
];
for (const [name, bytes] of invalid) {
  add(
    `NDJSON with invalid UTF-8 (${name})`,
    () =>
      line(
        Buffer.concat([Buffer.from('{"job_title":"Dev'), Buffer.from(bytes), Buffer.from('","job_posting_id":"1"}')]),
      ),
    /not valid UTF-8/,
  );
  add(
    `CSV row with invalid UTF-8 (${name})`,
    () =>
      csv1(
        Buffer.concat([
          Buffer.from('Software Engineer,-1,"Write code'),
          Buffer.from(bytes),
          Buffer.from(' daily",4,Acme,"Austin, TX",x,x,x,x,x,x,x,x\n'),
        ]),
      ),
    /not valid UTF-8/,
  );
}

// ---- wrong types
for (const [field, v, reason] of [
  ['job_title', 42, /'job_title' must be a string, got number/],
  ['job_title', ['Engineer'], /'job_title' must be a string, got object/],
  ['job_title', { en: 'Engineer' }, /'job_title' must be a string, got object/],
  ['job_title', true, /'job_title' must be a string, got boolean/],
  ['job_posting_id', { id: 1 }, /id field 'job_posting_id' must be a string or integer, got object/],
  ['job_posting_id', 1.5, /id field 'job_posting_id' must be a string or integer, got number/],
  ['job_posting_id', -3, /id field 'job_posting_id' must be a string or integer, got number/],
  ['job_posting_id', false, /id field 'job_posting_id' must be a string or integer, got boolean/],
  ['company_name', 7, /field 'company_name' must be a string or null, got number/],
  ['job_location', ['NY'], /field 'job_location' must be a string or null, got array/],
  ['url', {}, /field 'url' must be a string or null, got object/],
  ['job_seniority_level', 3, /field 'job_seniority_level' must be a string or null, got number/],
  ['job_employment_type', true, /field 'job_employment_type' must be a string or null, got boolean/],
  ['job_description_formatted', 12, /field 'job_description_formatted' must be a string or null, got number/],
  ['job_summary', [], /field 'job_summary' must be a string or null, got array/],
  ['timestamp', 1734858000000, /date field 'timestamp' must be a string, got number/],
  ['job_posted_date', {}, /date field 'job_posted_date' must be a string, got object/],
  ['base_salary', '90k', /'base_salary' must be a JSON object, got string/],
  ['base_salary', { min_amount: 'ninety', max_amount: 1 }, /field 'min_amount' must be a number or null, got string/],
  ['base_salary', { min_amount: 1, max_amount: true }, /field 'max_amount' must be a number or null, got boolean/],
  [
    'base_salary',
    { min_amount: 1, max_amount: 2, currency: 5 },
    /field 'currency' must be a string or null, got number/,
  ],
  ['base_salary', { min_amount: 200, max_amount: 100 }, /salary_min 200 is above salary_max 100/],
] as [string, unknown, RegExp][]) {
  add(`Bright Data ${field} = ${JSON.stringify(v)}`, () => rec('brightdata-linkedin', bd({ [field]: v })), reason);
}
add(
  'HN 2013 full_html is a number',
  () => rec('hn-2013-2018', hn13({ full_html: 5 })),
  /'full_html' must be a string, got number/,
);
add(
  'HN 2013 full_html is null',
  () => rec('hn-2013-2018', hn13({ full_html: null })),
  /'full_html' must be a string, got null/,
);
add(
  'HN 2013 location is a number',
  () => rec('hn-2013-2018', hn13({ location: 12 })),
  /field 'location' must be a string or null, got number/,
);
add(
  'HN 2026 text is null (deleted post)',
  () => rec('hn-2026', hn26({ text: null })),
  /'text' must be a string, got null \(deleted post\?\)/,
);
add('HN 2026 text is an array', () => rec('hn-2026', hn26({ text: ['a'] })), /'text' must be a string, got object/);
add('HN 2026 id is a float', () => rec('hn-2026', hn26({ id: 1.5 })), /'id' must be a positive integer, got 1.5/);
add('HN 2026 id is text', () => rec('hn-2026', hn26({ id: 'abc' })), /'id' must be a positive integer, got "abc"/);
add(
  'Glassdoor label is 2',
  () => rec('glassdoor', { title: 'Dev', description: 'Code', label: 2 }),
  /label must be 0 or 1, got 2/,
);
add(
  'Glassdoor title is a number',
  () => rec('glassdoor', { title: 5, description: 'Code', label: 0 }),
  /field 'title' must be a string or null, got number/,
);
add(
  'Glassdoor unparseable salary',
  () => csv1('Software Engineer,competitive pay,"Code",4,Acme,"Austin, TX",x,x,x,x,x,x,x,x'),
  /unparseable salary estimate "competitive pay"/,
);

// ---- missing ids
add(
  'Bright Data without job_posting_id',
  () => rec('brightdata-linkedin', bd({}, ['job_posting_id'])),
  /missing id: field 'job_posting_id' is absent or null/,
);
add(
  'Bright Data job_posting_id null',
  () => rec('brightdata-linkedin', bd({ job_posting_id: null })),
  /missing id: field 'job_posting_id' is absent or null/,
);
add(
  'Bright Data job_posting_id blank',
  () => rec('brightdata-linkedin', bd({ job_posting_id: '  ' })),
  /missing id: field 'job_posting_id' is empty/,
);
add(
  'HN 2013 url without id=',
  () => rec('hn-2013-2018', hn13({ url: 'https://news.ycombinator.com/item' })),
  /missing id: no 'id=' parameter in url/,
);
add(
  'HN 2013 url missing',
  () => rec('hn-2013-2018', hn13({ url: null })),
  /missing id: no 'id=' parameter in url null/,
);
add('HN 2026 id missing', () => rec('hn-2026', hn26({ id: undefined })), /missing id: field 'id' is absent/);

// ---- empty titles / descriptions
for (const t of ['', '   ', '<b></b>', '&nbsp;', '\n\t']) {
  add(`Bright Data title ${JSON.stringify(t)}`, () => rec('brightdata-linkedin', bd({ job_title: t })), /empty title/);
}
// a title or description of only NULs / control / format characters says nothing either (trim() keeps them)
for (const t of ['\u0000', '\u0000\u0000\u0000', '\u0001\u0007\u001b', ' \u0000 \u200b\u200d\u00ad ']) {
  add(
    `Bright Data title ${JSON.stringify(t)}`,
    () => rec('brightdata-linkedin', bd({ job_title: t })),
    /title has no visible characters \(only control or format characters, e.g. NUL\)/,
  );
}
add(
  'Bright Data description of only NULs',
  () => rec('brightdata-linkedin', bd({ job_description_formatted: '<p>\u0000\u0000</p>', job_summary: null })),
  /description has no visible characters/,
);
add(
  'HN 2026 post of only NULs',
  () => rec('hn-2026', hn26({ text: '\u0000\u0000<p>\u0000' })),
  /title has no visible characters/,
);
add(
  'Bright Data title null',
  () => rec('brightdata-linkedin', bd({ job_title: null })),
  /empty title: 'job_title' is missing/,
);
add(
  'Bright Data title absent',
  () => rec('brightdata-linkedin', bd({}, ['job_title'])),
  /empty title: 'job_title' is missing/,
);
add(
  'Bright Data no description at all',
  () => rec('brightdata-linkedin', bd({ job_description_formatted: null, job_summary: null })),
  /empty description/,
);
add(
  'Bright Data description is only markup',
  () =>
    rec('brightdata-linkedin', bd({ job_description_formatted: '<section><div> </div></section>', job_summary: '' })),
  /empty description/,
);
add(
  'Glassdoor CSV empty title',
  () => csv1(',-1,"Code",4,Acme,"Austin, TX",x,x,x,x,x,x,x,x'),
  /empty title: 'Job Title' is blank/,
);
add('Glassdoor CSV title -1', () => csv1('-1,-1,"Code",4,Acme,"Austin, TX",x,x,x,x,x,x,x,x'), /empty title/);
add(
  'Glassdoor CSV blank description',
  () => csv1('Software Engineer,-1,"  ",4,Acme,"Austin, TX",x,x,x,x,x,x,x,x'),
  /empty description: 'Job Description' is blank/,
);
add(
  'HN 2013 empty HTML',
  () => rec('hn-2013-2018', hn13({ full_html: '<font color="#5a5a5a"></font>' })),
  /empty description: 'full_html' has no text/,
);
add('HN 2026 empty text', () => rec('hn-2026', hn26({ text: '' })), /empty description: 'text' has no text/);
add(
  'HN 2026 only separators in the first line',
  () => rec('hn-2026', hn26({ text: '|' })),
  /empty title: the first line of the post is blank/,
);

// ---- CSV rows with missing columns
add('CSV row with only the title', () => csv1('Software Engineer'), /missing the 'description' column/);
add(
  'CSV row with title and salary',
  () => csv1('Software Engineer,$82K-$141K (Glassdoor est.)'),
  /missing the 'description' column/,
);
add('CSV row that is just a comma', () => csv1(','), /missing the 'description' column/);
add(
  'Glassdoor value without title key',
  () => rec('glassdoor', { description: 'Code', label: 0 }),
  /missing the 'title' column/,
);
add(
  'CSV file with an unclosed quote',
  () => csvRows('Software Engineer,-1,"never closed\n')[0]!,
  /malformed CSV in software_engineer.csv/,
);

// ---- 5 MB descriptions (and just over 1 MB)
add(
  'Bright Data 5 MB HTML description',
  () => rec('brightdata-linkedin', bd({ job_description_formatted: `<p>${FIVE_MB}</p>` })),
  /description is 5,242,880 bytes, over the 1 MB limit/,
);
add(
  'Bright Data 5 MB summary fallback',
  () => rec('brightdata-linkedin', bd({ job_description_formatted: null, job_summary: FIVE_MB })),
  /over the 1 MB limit/,
);
add(
  'Bright Data 1 MB + 1 byte (multi-byte chars)',
  () => rec('brightdata-linkedin', bd({ job_description_formatted: `${'é'.repeat(512 * 1024)}x` })),
  /description is 1,048,577 bytes/,
);
add(
  'Glassdoor 5 MB description',
  () => csv1(`Software Engineer,-1,"${FIVE_MB}",4,Acme,"Austin, TX",x,x,x,x,x,x,x,x`),
  /over the 1 MB limit/,
);
add(
  'HN 2013 5 MB post',
  () => rec('hn-2013-2018', hn13({ full_html: `Acme | Dev<p>${FIVE_MB}` })),
  /over the 1 MB limit/,
);
add('HN 2026 5 MB post', () => rec('hn-2026', hn26({ text: `Acme | Dev<p>${FIVE_MB}` })), /over the 1 MB limit/);

// ---- unparseable timestamps
for (const ts of ['yesterday-ish', '2024-13-45T00:00:00Z', 'not a date', '12/45/2024 99:99']) {
  add(
    `Bright Data timestamp ${JSON.stringify(ts)}`,
    () => rec('brightdata-linkedin', bd({ timestamp: ts })),
    /unparseable date in 'timestamp'/,
  );
  add(
    `Bright Data job_posted_date ${JSON.stringify(ts)}`,
    () => rec('brightdata-linkedin', bd({ job_posted_date: ts })),
    /unparseable date in 'job_posted_date'/,
  );
}
for (const rel of ['sometime', 'in 3 days', '3 fortnights ago', 'last week-ish']) {
  add(
    `Bright Data relative time ${JSON.stringify(rel)}`,
    () => rec('brightdata-linkedin', bd({ job_posted_time: rel }, ['job_posted_date'])),
    /unparseable relative date in 'job_posted_time'/,
  );
}
for (const m of ['2015-13', '15-10', '2015-00', 'October 2015', 10]) {
  add(
    `HN 2013 month ${JSON.stringify(m)}`,
    () => rec('hn-2013-2018', hn13({}, m)),
    /unparseable date: month .* is not YYYY-MM/,
  );
}
for (const t of ['1767377545', null, Number.NaN]) {
  add(
    `HN 2026 time ${String(t)}`,
    () => rec('hn-2026', { ...hn26(), job: { ...hn26().job, time: t } }),
    /unparseable date: 'time' must be unix seconds/,
  );
}
add(
  'HN 2026 fetched_at unparseable',
  () => rec('hn-2026', hn26({}, 'March 15th-ish')),
  /unparseable date in 'fetched_at'/,
);

// ---- dates in the future (more than a day after scraped_at / now)
add(
  'Bright Data posted 2 days after the scrape',
  () => rec('brightdata-linkedin', bd({ job_posted_date: '2024-12-24T10:00:00Z' })),
  /posted_at 2024-12-24T10:00:00.000Z is more than a day after scraped_at/,
);
add(
  'Bright Data posted a year after the scrape',
  () => rec('brightdata-linkedin', bd({ job_posted_date: '2025-12-22T09:16:55.951Z' })),
  /more than a day after scraped_at/,
);
add(
  'Bright Data scraped in the future',
  () => rec('brightdata-linkedin', bd({ timestamp: '2030-01-01T00:00:00Z', job_posted_date: null })),
  /scraped_at 2030-01-01T00:00:00.000Z is more than a day in the future/,
);
add(
  'Bright Data posted in the future, no scrape time',
  () => rec('brightdata-linkedin', bd({ timestamp: null, job_posted_date: '2027-01-01T00:00:00Z' })),
  /more than a day after now/,
);
add(
  'HN 2013 month in the future',
  () => rec('hn-2013-2018', hn13({}, '2099-01')),
  /posted_at 2099-01-01T00:00:00.000Z is more than a day after now/,
);
add(
  'HN 2026 post after its run was fetched',
  () => rec('hn-2026', hn26({ time: Date.parse('2026-03-20T00:00:00Z') / 1000 })),
  /more than a day after scraped_at \(2026-03-15T12:26:51.048Z\)/,
);
add(
  'HN 2026 time in milliseconds (far future)',
  () => rec('hn-2026', hn26({ time: 1767377545000 }, null)),
  /more than a day after now/,
);

// ---- valid inputs alongside
const valid: [string, () => RawPosting][] = [
  ['Bright Data complete', () => rec('brightdata-linkedin', bd())],
  ['Bright Data NDJSON line', () => line(JSON.stringify(bd()))],
  ['Bright Data numeric id', () => rec('brightdata-linkedin', bd({ job_posting_id: 4096670538 }))],
  [
    'Bright Data minimal',
    () => rec('brightdata-linkedin', { job_posting_id: '1', job_title: 'Dev', job_summary: 'Code' }),
  ],
  [
    'Bright Data relative time only',
    () => rec('brightdata-linkedin', bd({ job_posted_time: '3 days ago' }, ['job_posted_date'])),
  ],
  [
    'Bright Data "just now"',
    () => rec('brightdata-linkedin', bd({ job_posted_time: 'just now', job_posted_date: null })),
  ],
  [
    'Bright Data posted within a day after scrape (clock skew)',
    () => rec('brightdata-linkedin', bd({ job_posted_date: '2024-12-22T20:00:00Z' })),
  ],
  [
    'Bright Data exactly 1 MB description',
    () => rec('brightdata-linkedin', bd({ job_description_formatted: 'y'.repeat(1024 * 1024) })),
  ],
  ['Bright Data title with entities', () => rec('brightdata-linkedin', bd({ job_title: 'R&amp;D Engineer (C++)' }))],
  ['Glassdoor CSV row', () => csv1(GOOD_CSV)],
  [
    'Glassdoor hourly salary',
    () => csv1('Data Analyst,$25-$30 Per Hour(Glassdoor est.),"SQL",4,Acme,"Austin, TX",x,x,x,x,x,x,x,x'),
  ],
  ['Glassdoor missing salary and location', () => csv1('Data Analyst,-1,"SQL",-1,-1,-1,x,x,x,x,x,x,x,x')],
  [
    'Glassdoor valid UTF-8 (U+FFFD in the text itself)',
    () => csv1('Software Engineer,-1,"caf\u00e9 \ufffd \u6771\u4eac",4,Acme,"Austin, TX",x,x,x,x,x,x,x,x'),
  ],
  ['HN 2013 post', () => rec('hn-2013-2018', hn13())],
  ['HN 2013 post without pipes', () => rec('hn-2013-2018', hn13({ full_html: 'Stormpulse – Austin, TX<p>Python.' }))],
  ['HN 2026 post', () => rec('hn-2026', hn26())],
  ['HN 2026 id as string', () => rec('hn-2026', hn26({ id: '46467610' }))],
];

describe('malformed postings corpus', () => {
  it('has at least 100 malformed inputs', () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
  });

  it.each(cases.map((c) => [c.name, c] as const))('rejects: %s', (_name, c) => {
    const input = c.input();
    let error: unknown;
    try {
      normalizePosting(input, NOW);
    } catch (err) {
      error = err;
    }
    expect(error, 'expected a rejection').toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(c.reason);
  });

  it.each(valid.map(([name, input]) => [name, input] as const))('accepts: %s', (_name, input) => {
    const p = normalizePosting(input(), NOW);
    expect(p.id).not.toBe('');
    expect(p.title).not.toBe('');
    expect(p.description).not.toBe('');
  });

  it('rejections are PostingRejected errors, and the accepted record is mapped', () => {
    expect(() => normalizePosting(rec('brightdata-linkedin', bd({ job_title: '' })), NOW)).toThrow(PostingRejected);
    const p = normalizePosting(
      rec('brightdata-linkedin', bd({ job_posted_time: '3 days ago' }, ['job_posted_date'])),
      NOW,
    );
    expect(p).toMatchObject({
      id: '4096670538',
      title: 'Data Engineer',
      description: 'Build pipelines with Python & Spark.',
      skills: ['python', 'spark'],
      salary_min: 90000,
      salary_max: 120000,
      salary_currency: 'USD',
      salary_period: 'year',
      posted_at: Date.parse('2024-12-19T09:16:55.951Z'),
      scraped_at: Date.parse('2024-12-22T09:16:55.951Z'),
    });
    const g = normalizePosting(csv1(GOOD_CSV), NOW);
    expect(g).toMatchObject({
      title: 'Software Engineer',
      company: 'MedBill',
      location: 'Boone, NC',
      description: 'Write C++ and Python.\nShip it.',
      skills: ['c++', 'python'],
      label: 0,
    });
    expect(g.id).toMatch(/^[0-9a-f]{20}$/);
  });
});
