/**
 * Normalize tokenizes each posting once and shares the tokens (posting-tokens.ts): on every real posting, the shared
 * tokens, the skills made from them and the drift keywords must equal what tokenizing each text separately gives, so
 * every table a pipeline writes keeps the same rows.
 */
import { describe, expect, it } from 'vitest';
import {
  hn2013Files,
  hn2026Files,
  readBrightData,
  readGlassdoor,
  readHn2013,
  readHn2026,
} from '../../connectors/postings/index.ts';
import { keywordsOf, postingModelFeatures, postingTextFeatures } from '../../models/postings/drift-features.ts';
import { dataFile } from '../../test/data-dir.ts';
import { type JobPosting, normalizePosting, type RawPosting } from './index.ts';
import { postingTokens } from './posting-tokens.ts';
import { extractSkills, tokenize } from './text.ts';

async function normalized(gen: AsyncGenerator<RawPosting[]>): Promise<JobPosting[]> {
  const out: JobPosting[] = [];
  for await (const batch of gen) {
    for (const r of batch) {
      try {
        out.push(normalizePosting(r, Date.UTC(2026, 11, 1)));
      } catch {
        // rejected records have no tokens to share
      }
    }
  }
  return out;
}

const isHn = (p: JobPosting) => p.source.startsWith('hn-');

function expectSameAsSeparateScans(postings: JobPosting[]): void {
  expect(postings.length).toBeGreaterThan(0);
  let mismatches = 0;
  for (const p of postings) {
    const text = `${p.title}\n${p.description}`;
    const tokens = postingTokens(p);
    const skills = extractSkills(isHn(p) ? p.description : text);
    const keywords = keywordsOf(text);
    const scored = { title: p.title, description: p.description, label: 0, confidence: 1, tokens };
    const same =
      JSON.stringify(tokens) === JSON.stringify(tokenize(text)) &&
      JSON.stringify(p.skills) === JSON.stringify(skills) &&
      JSON.stringify(postingTextFeatures.keywords!(p)) === JSON.stringify(keywords) &&
      JSON.stringify(postingModelFeatures.keywords!(scored)) === JSON.stringify(keywords);
    if (!same) mismatches++;
  }
  expect(mismatches).toBe(0);
}

describe('tokens shared between normalize and drift keywords (real postings)', () => {
  it('Bright Data and Glassdoor: same tokens, skills and keywords as separate scans', async () => {
    const files = ['linkedin_jobs_keyword.json', 'linkedin_jobs_url.json'].map((f) =>
      dataFile('postings', 'brightdata-linkedin', f),
    );
    expectSameAsSeparateScans(await normalized(readBrightData(files)));
    const csvs = ['software_engineer.csv', 'data_science.csv'].map((f) => dataFile('postings', 'glassdoor-2020', f));
    expectSameAsSeparateScans(await normalized(readGlassdoor(csvs)));
  });

  it('HN 2013–2018 and 2026: title tokens then description tokens equal the tokens of the joined text', async () => {
    expectSameAsSeparateScans(
      await normalized(readHn2013(await hn2013Files(dataFile('postings', 'hn-hiring-2013-2018')))),
    );
    expectSameAsSeparateScans(await normalized(readHn2026(await hn2026Files(dataFile('postings', 'hn-hiring-2026')))));
  }, 120_000);
});
