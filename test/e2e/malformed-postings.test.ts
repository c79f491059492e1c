import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { driftlineOk } from './cli.ts';

/** A Bright Data scraper record (the real field names), varied by `i`. */
const scraped = (i: number, over: Record<string, unknown> = {}) => ({
  url: `https://www.linkedin.com/jobs/view/${9000 + i}`,
  job_posting_id: String(9000 + i),
  job_title: `Data Engineer ${i}`,
  company_name: 'Acme',
  job_location: 'Bronx, NY',
  job_summary: 'Build pipelines with Python and Spark.',
  job_seniority_level: 'Entry level',
  job_employment_type: 'Full-time',
  job_posted_time: '1 week ago',
  job_description_formatted: `<p>Build pipelines with <b>Python</b> &amp; Spark, team ${i}.</p>`,
  base_salary: { min_amount: 90000, max_amount: 120000, currency: 'usd', payment_period: 'yr' },
  timestamp: '2024-12-22T09:16:55.951Z',
  ...over,
});

const CSV_HEADER =
  'Job Title,Salary Estimate,Job Description,Rating,Company Name,Location,Headquarters,Size,Founded,Type of ' +
  'ownership,Industry,Sector,Revenue,Competitors';

/** Writes the corpus: valid and malformed records mixed in the files a scraper and an export would deliver. */
function writeCorpus(dir: string) {
  const lines: Buffer[] = [];
  let valid = 0;
  let bad = 0;
  const good = (i: number) => {
    lines.push(Buffer.from(JSON.stringify(scraped(i))));
    valid += 1;
  };
  const malformed = (bytes: Buffer | string) => {
    lines.push(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
    bad += 1;
  };
  for (let i = 0; i < 40; i++) {
    good(i);
    malformed(JSON.stringify(scraped(100 + i)).slice(0, 40 + i)); // truncated JSON
    if (i < 30) malformed(JSON.stringify(scraped(200 + i, { job_title: 1234 + i }))); // wrong type
    if (i < 30) malformed(JSON.stringify(scraped(300 + i, { job_title: i % 2 ? '' : '   ' }))); // empty title
    if (i < 30)
      malformed(
        Buffer.concat([
          Buffer.from(`{"job_posting_id":"${400 + i}","job_title":"Bad `),
          Buffer.from([0xff, 0xfe, 0xc3]),
          Buffer.from('"}'),
        ]),
      ); // invalid UTF-8
    if (i < 30)
      malformed(
        JSON.stringify(
          scraped(500 + i, { timestamp: '2099-05-01T00:00:00Z', job_posted_date: '2099-05-01T00:00:00Z' }),
        ),
      ); // future
    if (i < 30)
      // unparseable
      malformed(JSON.stringify(scraped(600 + i, { timestamp: 'the day after tomorrow', job_posted_time: 'someday' })));
    if (i < 3)
      malformed(
        JSON.stringify(scraped(700 + i, { job_description_formatted: `<p>${'x'.repeat(5 * 1024 * 1024)}</p>` })),
      ); // 5 MB
  }
  writeFileSync(join(dir, 'scraper-run.ndjson'), Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));

  const rows = [CSV_HEADER];
  for (let i = 0; i < 20; i++) {
    rows.push(
      `Software Engineer ${i},$82K-$141K (Glassdoor est.),"Write C++ and Python, ` +
        `module ${i}.",4.4,"MedBill\n4.4","Boone, NC",x,x,x,x,x,x,x,x`,
    );
    valid += 1;
    rows.push(`Only a title ${i}`); // missing columns
    bad += 1;
  }
  writeFileSync(join(dir, 'software_engineer.csv'), `${rows.join('\n')}\n`);
  return { valid, bad };
}

describe('malformed postings end to end (driftline run --input → embedded warehouse)', () => {
  it('dead-letters every malformed input with a reason, lands every valid one, and exits 0', async () => {
    const home = mkdtempSync(join(tmpdir(), 'driftline-corpus-home-'));
    const input = mkdtempSync(join(tmpdir(), 'driftline-corpus-'));
    const { valid, bad } = writeCorpus(input);
    expect(bad).toBeGreaterThanOrEqual(200);

    await driftlineOk(['run', 'postings', '--input', input], {
      DRIFTLINE_HOME: home,
      CLICKHOUSE_URL: '',
      KAFKA_BROKERS: '',
    });

    const warehouse = await openWarehouse({ home });
    try {
      const [{ n: postings }] = (await warehouse.query('SELECT count(*) AS n FROM postings')) as [{ n: number }];
      const letters = (await warehouse.query('SELECT stage, error, original FROM dead_letters')) as {
        stage: string;
        error: string;
        original: string;
      }[];
      expect(Number(postings)).toBe(valid);
      expect(letters.length).toBe(bad);
      for (const l of letters) {
        expect(l.error.length).toBeGreaterThan(5);
        expect(['parse', 'normalize']).toContain(l.stage);
      }
      // The reasons name the problem, one kind per kind of damage (not one catch-all message).
      const reasons = new Set(letters.map((l) => l.error.replace(/[\d"'].*$/, '')));
      expect(reasons.size).toBeGreaterThanOrEqual(6);
      // The original bytes are kept: the invalid UTF-8 lines come back byte for byte.
      const utf8Broken = letters.filter((l) =>
        Buffer.from(l.original, 'base64').includes(Buffer.from([0xff, 0xfe, 0xc3])),
      );
      expect(utf8Broken.length).toBe(30);
      console.log(
        `corpus: ${valid} valid, ${bad} malformed; reasons:\n ` +
          ` ${[...new Set(letters.map((l) => l.error.slice(0, 90)))].slice(0, 12).join('\n  ')}`,
      );
    } finally {
      await warehouse.close();
    }
  }, 120_000);
});
