import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvColumnsFor, parseCsvMap } from './csv-columns.ts';
import {
  glassdoorRecords,
  hn2026Files,
  inBatches,
  jsonRecords,
  loadPostingsCsvConfig,
  readBrightData,
  readHn2026,
} from './index.ts';
import { dataFile } from '../../test/data-dir.ts';
import type { RawPosting } from '../../schemas/raw-posting.ts';

async function collect(gen: AsyncGenerator<RawPosting[]>): Promise<RawPosting[]> {
  const out: RawPosting[] = [];
  for await (const batch of gen) out.push(...batch);
  return out;
}

describe('jsonRecords', () => {
  it('detects a JSON array vs NDJSON', () => {
    const a = [...jsonRecords(Buffer.from('  [{"a":1},{"a":2}]'), 'brightdata-linkedin')];
    expect(a.map((r) => r.value)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(a[0]!.raw.toString()).toBe('{"a":1}');
    const n = [...jsonRecords(Buffer.from('{"a":1}\r\n\n{"a": 2}\n{broken\n'), 'brightdata-linkedin')];
    expect(n.map((r) => r.value)).toEqual([{ a: 1 }, { a: 2 }, undefined]);
    expect(n.map((r) => r.raw.toString())).toEqual(['{"a":1}', '{"a": 2}', '{broken']);
  });

  it('reads the real Bright Data array files the same as when rewritten as NDJSON', async () => {
    const file = dataFile('postings', 'brightdata-linkedin', 'linkedin_jobs_keyword.json');
    const fromArray = await collect(readBrightData([file]));
    const dir = mkdtempSync(join(tmpdir(), 'driftline-postings-'));
    const nd = join(dir, 'x.ndjson');
    writeFileSync(nd, fromArray.map((r) => r.raw.toString()).join('\n'));
    const fromLines = await collect(readBrightData([nd]));
    expect(fromLines.map((r) => r.value)).toEqual(fromArray.map((r) => r.value));
    expect(fromArray).toHaveLength(20);
  });
});

describe('glassdoorRecords', () => {
  const config = loadPostingsCsvConfig();
  it('maps columns by header (ignoring an extra leading index column), keeps row bytes, dedupes', () => {
    const csv =
      ',Job Title,Salary Estimate,Job Description,Company Name,Location\n0,Data ' +
      'Analyst,-1,"multi\nline",Acme,NYC\n1,Data Analyst,-1,"multi\nline",Acme,NYC\r\n2,Data ' +
      'Engineer,$1K-$2K,x,Acme,NYC\n';
    const seen = new Set<string>();
    const rows = [...glassdoorRecords(Buffer.from(csv), 'data_science.csv', 1, config, seen)];
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.raw.toString())).toEqual([
      '0,Data Analyst,-1,"multi\nline",Acme,NYC',
      '2,Data Engineer,$1K-$2K,x,Acme,NYC',
    ]);
    expect(rows[0]!.value).toMatchObject({
      title: 'Data Analyst',
      description: 'multi\nline',
      company: 'Acme',
      location: 'NYC',
      salary: '-1',
      label: 1,
    });
    // seen is shared: the same rows from another file are dropped
    expect([...glassdoorRecords(Buffer.from(csv), 'data_science.csv', 1, config, seen)]).toHaveLength(0);
    expect([...glassdoorRecords(Buffer.from(csv), 'data_science.csv', 1, config, null)]).toHaveLength(3);
  });
});

describe('CSV column maps', () => {
  const glassdoor = loadPostingsCsvConfig().columns;
  const header = ['', 'Job Title', 'Salary Estimate', 'Job Description', 'Rating', 'Company Name', 'Location'];
  it('recognises the Glassdoor header under any file name, and prefers a user map that fits', () => {
    expect(csvColumnsFor('anything.csv', header, glassdoor)).toBe(glassdoor);
    const map = parseCsvMap('Job Title=title, Job Description=description, Rating=label');
    expect(map).toEqual({ 'Job Title': 'title', 'Job Description': 'description', Rating: 'label' });
    expect(csvColumnsFor('anything.csv', header, glassdoor, map)).toBe(map);
    expect(csvColumnsFor('anything.csv', header, glassdoor, parseCsvMap('Headline=title,Body=description'))).toBe(
      glassdoor,
    );
  });

  it('refuses an unknown header, a map without title or description, and unknown fields', () => {
    expect(() => csvColumnsFor('board.csv', ['Position', 'Text'], glassdoor)).toThrow(
      'board.csv: CSV header not recognised (columns "Position", "Text")',
    );
    expect(() =>
      csvColumnsFor('board.csv', ['Position', 'Text'], glassdoor, parseCsvMap('Position=title,Body=description')),
    ).toThrow('--csv-map names "Body", not in its header');
    expect(() => parseCsvMap('Position=title')).toThrow('no column maps to description');
    expect(() => parseCsvMap('Position=title,Text=body')).toThrow('column "Text" maps to unknown field "body"');
    expect(() => parseCsvMap('Position')).toThrow('"Position" is not <column>=<field>');
  });

  it('stores no label for a row without one, and keeps a wrong one for the normalizer to reject', () => {
    const csv = 'Position,Text,Class\nA,x,1\nB,y,\nC,z,yes\n';
    const config = { columns: parseCsvMap('Position=title,Text=description,Class=label'), labels: {} };
    const rows = [...glassdoorRecords(Buffer.from(csv), 'board.csv', null, config, null)];
    expect(rows.map((r) => (r.value as { label: unknown }).label)).toEqual([1, null, 'yes']);
  });
});

describe('readHn2026', () => {
  it('keeps the first-seen copy of an id across runs in sorted folder order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftline-hn26-'));
    const run = (date: string, jobs: unknown[]) => {
      mkdirSync(join(dir, date));
      writeFileSync(join(dir, date, 'raw.json'), JSON.stringify({ date, fetched_at: `${date}T00:00:00Z`, jobs }));
    };
    run('2026-02-01', [
      { id: 2, time: 1, text: 'B' },
      { id: 1, time: 1, text: 'A (second run)' },
    ]);
    run('2026-01-01', [{ id: 1, time: 1, text: 'A' }]);
    const files = await hn2026Files(dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['2026-01-01/raw.json', '2026-02-01/raw.json']);
    const recs = await collect(readHn2026(files));
    expect(recs.map((r) => (r.value as { job: { text: string } }).job.text)).toEqual(['A', 'B']);
  });

  it('real runs: 2,301 jobs, 1,720 unique', async () => {
    const files = await hn2026Files(dataFile('postings', 'hn-hiring-2026'));
    expect(await collect(readHn2026(files))).toHaveLength(1_720);
  });
});

describe('inBatches', () => {
  it('splits into batches of the given size', async () => {
    const out: number[][] = [];
    for await (const b of inBatches([1, 2, 3, 4, 5], 2)) out.push(b);
    expect(out).toEqual([[1, 2], [3, 4], [5]]);
  });
});
