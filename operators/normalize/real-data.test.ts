import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  hn2013Files,
  hn2026Files,
  readBrightData,
  readGlassdoor,
  readHn2013,
  readHn2026,
} from '../../connectors/postings/index.ts';
import { dataFile } from '../../test/data-dir.ts';
import { htmlToText } from './text.ts';
import { normalizePosting, type JobPosting, type RawPosting } from './index.ts';

async function collect(gen: AsyncGenerator<RawPosting[]>): Promise<RawPosting[]> {
  const out: RawPosting[] = [];
  for await (const batch of gen) out.push(...batch);
  return out;
}

function normalizeAll(records: RawPosting[]) {
  const ok: JobPosting[] = [];
  const rejected: { raw: string; reason: string }[] = [];
  for (const r of records) {
    try {
      ok.push(normalizePosting(r));
    } catch (err) {
      rejected.push({ raw: r.raw.toString('utf8').slice(0, 120), reason: (err as Error).message });
    }
  }
  return { ok, rejected };
}

const BD_FILES = ['linkedin_jobs_keyword.json', 'linkedin_jobs_url.json'].map((f) =>
  dataFile('postings', 'brightdata-linkedin', f),
);

type Text = string | null;

/** The Bright Data fields these tests read (any may be missing or null in a scraped row). */
interface BrightDataRow {
  [field: string]: unknown;
  job_posting_id?: Text;
  job_title?: Text;
  company_name?: Text;
  job_location?: Text;
  url?: Text;
  job_seniority_level?: Text;
  job_employment_type?: Text;
  timestamp?: Text;
  job_posted_date?: Text;
  job_posted_time?: Text;
  job_description_formatted?: Text;
  job_summary?: Text;
  base_salary?: {
    min_amount?: number | null;
    max_amount?: number | null;
    currency?: Text;
    payment_period?: Text;
  } | null;
}

describe('Bright Data LinkedIn (real files)', () => {
  it('normalizes both files with no rejections', async () => {
    for (const file of BD_FILES) {
      const records = await collect(readBrightData([file]));
      const expected = (JSON.parse(readFileSync(file, 'utf8')) as unknown[]).length;
      expect(records).toHaveLength(expected);
      const { ok, rejected } = normalizeAll(records);
      expect(rejected).toEqual([]);
      expect(ok).toHaveLength(expected);
    }
  });

  it('carries every field present in the input into the output (field by field)', async () => {
    const records = await collect(readBrightData(BD_FILES));
    expect(records.length).toBe(22);
    let compared = 0;
    for (const rec of records) {
      const input = rec.value as BrightDataRow;
      const p = normalizePosting(rec);
      // mapping: input field → [output field, expected output value]
      const checks: [string, keyof JobPosting, unknown][] = [
        ['job_posting_id', 'id', String(input.job_posting_id)],
        ['job_title', 'title', input.job_title?.trim()],
        ['company_name', 'company', input.company_name?.trim()],
        ['job_location', 'location', input.job_location?.trim()],
        ['url', 'url', input.url],
        ['job_seniority_level', 'seniority', input.job_seniority_level],
        ['job_employment_type', 'employment_type', input.job_employment_type],
        ['timestamp', 'scraped_at', input.timestamp && Date.parse(input.timestamp)],
        ['job_posted_date', 'posted_at', input.job_posted_date && Date.parse(input.job_posted_date)],
        [
          'job_description_formatted',
          'description',
          input.job_description_formatted && htmlToText(input.job_description_formatted),
        ],
      ];
      for (const [inField, outField, want] of checks) {
        if (input[inField] === null || input[inField] === undefined || input[inField] === '') continue;
        expect(p[outField], `${input.job_posting_id}: ${inField} → ${outField}`).toEqual(want);
        compared++;
      }
      const s = input.base_salary ?? {};
      if (s.min_amount != null) expect(p.salary_min).toBe(s.min_amount);
      if (s.max_amount != null) expect(p.salary_max).toBe(s.max_amount);
      if (s.currency != null) expect(p.salary_currency).toBe(String(s.currency).toUpperCase());
      if (s.payment_period != null) expect(p.salary_period).not.toBeNull();
      if (input.job_description_formatted == null && input.job_summary)
        expect(p.description).toBe(htmlToText(input.job_summary));
      // the relative time agrees with the absolute date Bright Data derived from it (to the second)
      if (input.job_posted_time && input.job_posted_date) {
        const { job_posted_date: _d, ...withoutDate } = input;
        const q = normalizePosting({ raw: rec.raw, source: rec.source, value: withoutDate });
        expect(Math.abs(q.posted_at! - Date.parse(input.job_posted_date))).toBeLessThan(1_000);
      }
      expect(p.description).not.toMatch(/<\/?[a-z][^>]*>/i);
      expect(p.label).toBeNull();
    }
    expect(compared).toBeGreaterThan(150);
  });
});

describe('Glassdoor 2020 (real files)', () => {
  const se = dataFile('postings', 'glassdoor-2020', 'software_engineer.csv');
  const ds = dataFile('postings', 'glassdoor-2020', 'data_science.csv');

  it('has exact row counts after dedupe, all normalized, labels by file', async () => {
    expect(await collect(readGlassdoor([se], { dedupe: false }))).toHaveLength(1000);
    expect(await collect(readGlassdoor([ds], { dedupe: false }))).toHaveLength(956);
    expect(await collect(readGlassdoor([se]))).toHaveLength(632);
    expect(await collect(readGlassdoor([ds]))).toHaveLength(600);
    // 2 postings appear in both files: the first seen (software_engineer.csv, label 0) is kept
    const both = await collect(readGlassdoor([se, ds]));
    expect(both).toHaveLength(1230);
    const { ok, rejected } = normalizeAll(both);
    expect(rejected).toEqual([]);
    expect(ok.filter((p) => p.label === 0)).toHaveLength(632);
    expect(ok.filter((p) => p.label === 1)).toHaveLength(598);
    expect(new Set(ok.map((p) => p.id)).size).toBe(1230);
    // Data Engineer / Data Analyst titles from the data-science search keep label 1
    expect(ok.some((p) => p.label === 1 && /data (engineer|analyst)/i.test(p.title))).toBe(true);
    const first = ok[0]!;
    expect(first).toMatchObject({
      title: 'Software Engineer',
      company: 'MedBill',
      location: 'Boone, NC',
      salary_min: 82_000,
      salary_max: 141_000,
      salary_currency: 'USD',
      salary_period: 'year',
      label: 0,
    });
    expect(ok.some((p) => p.salary_period === 'hour')).toBe(true);
    expect(ok.some((p) => p.salary_min === null)).toBe(true); // "-1"
  });

  it("keeps each row's original bytes as raw", async () => {
    const [first] = (await collect(readGlassdoor([se], { batchSize: 1 }))) as RawPosting[];
    const text = first!.raw.toString('utf8');
    expect(text.startsWith('Software Engineer,$82K-$141K (Glassdoor est.),"MedBill is looking')).toBe(true);
    expect(readFileSync(se).includes(first!.raw)).toBe(true);
  });
});

describe('Hacker News "Who is hiring" (real files)', () => {
  it('2013–2018: 28,238 posts, 28,238 unique ids, 28,237 normalized', async () => {
    const files = await hn2013Files(dataFile('postings', 'hn-hiring-2013-2018'));
    expect(files).toHaveLength(54);
    const records = await collect(readHn2013(files));
    expect(records).toHaveLength(28_238);
    const { ok, rejected } = normalizeAll(records);
    expect(new Set(ok.map((p) => p.id)).size).toBe(ok.length);
    // the one rejection is a post whose HTML holds no text at all (<font color="#5a5a5a"></font>, 2014-08)
    expect(rejected.map((r) => r.reason)).toEqual(["empty description: 'full_html' has no text"]);
    expect(ok).toHaveLength(28_237);
    const sample = ok.find((p) => p.id === '10313519')!;
    expect(sample.posted_at).toBe(Date.UTC(2015, 9, 1));
    expect(sample.url).toBe('https://news.ycombinator.com/item?id=10313519');
    expect(sample.description).toContain("Probably the last month I'll post this");
    // post opening with the separator: "|Software Development Engineer| S3, Amazon Web Services | Seattle..."
    expect(
      ok.some((p) => p.title === 'Software Development Engineer' && p.company === 'Software Development Engineer'),
    ).toBe(true);
    const synthego = ok.find((p) => p.description.startsWith('Synthego | BioTech'))!;
    expect(synthego).toMatchObject({
      title: 'Synthego',
      company: 'Synthego',
      location: expect.stringContaining('Redwood City'),
    });
    // 2013–2018 knows no LLMs
    expect(
      ok.filter((p) => p.skills.includes('llm') || p.skills.includes('langchain') || p.skills.includes('agentic')),
    ).toHaveLength(0);
  });

  it('2026: 2,301 jobs over 7 runs, 1,720 unique ids (README: 1,720), all normalized', async () => {
    const files = await hn2026Files(dataFile('postings', 'hn-hiring-2026'));
    expect(files).toHaveLength(7);
    const records = await collect(readHn2026(files));
    expect(records).toHaveLength(1_720);
    const { ok, rejected } = normalizeAll(records);
    expect(rejected).toEqual([]);
    expect(new Set(ok.map((p) => p.id)).size).toBe(1_720);
    const mi = ok.find((p) => p.id === '46467610')!;
    expect(mi).toMatchObject({
      title: 'MiLaboratories',
      company: 'MiLaboratories',
      posted_at: 1767377545_000,
      scraped_at: Date.parse('2026-03-15T12:26:51.048Z'),
    });
    // kept from the first run that saw it: its scraped_at is that run's fetch time
    expect(ok.filter((p) => p.skills.includes('llm')).length).toBeGreaterThan(150);
    expect(ok.filter((p) => p.skills.includes('agentic')).length).toBeGreaterThan(100);
  });
});
