/**
 * Postings normalization throughput: raw records (already read by the postings connectors) → JobPosting, over all
 * real postings files (Bright Data, Glassdoor, HN 2013–2018, HN 2026), single thread. Reading and parsing the files is
 * done once, outside the timing. 5 repetitions; prints median/min/max records/s overall and per source.
 * Target on 2 cores: ≥ 20,000 postings/s.
 *   npx tsx bench/postings-normalize.bench.ts          (data: DRIFTLINE_DATA_DIR or ../shared/data)
 */
import { join } from 'node:path';
import {
  hn2013Files,
  hn2026Files,
  readBrightData,
  readGlassdoor,
  readHn2013,
  readHn2026,
} from '../connectors/postings/index.ts';
import { normalizePosting, type PostingSource, type RawPosting } from '../operators/normalize/index.ts';
import { dataDir } from '../test/data-dir.ts';
import { formatSpread, spread } from './stats.ts';

const REPS = 5;
const dir = join(dataDir(), 'postings');

async function collect(gen: AsyncGenerator<RawPosting[]>): Promise<RawPosting[]> {
  const out: RawPosting[] = [];
  for await (const batch of gen) out.push(...batch);
  return out;
}

const inputs: Record<PostingSource, RawPosting[]> = {
  'brightdata-linkedin': await collect(
    readBrightData(
      ['linkedin_jobs_keyword.json', 'linkedin_jobs_url.json'].map((f) => join(dir, 'brightdata-linkedin', f)),
    ),
  ),
  glassdoor: await collect(
    readGlassdoor(['software_engineer.csv', 'data_science.csv'].map((f) => join(dir, 'glassdoor-2020', f))),
  ),
  'hn-2013-2018': await collect(readHn2013(await hn2013Files(join(dir, 'hn-hiring-2013-2018')))),
  'hn-2026': await collect(readHn2026(await hn2026Files(join(dir, 'hn-hiring-2026')))),
};
const all = Object.values(inputs).flat();
const bytes = all.reduce((n, r) => n + r.raw.length, 0);

function run(records: RawPosting[]): { rate: number; ok: number; rejected: number } {
  let ok = 0;
  let rejected = 0;
  const t0 = performance.now();
  for (const r of records) {
    try {
      normalizePosting(r);
      ok++;
    } catch {
      rejected++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return { rate: records.length / seconds, ok, rejected };
}

console.log(`postings normalize: ${all.length.toLocaleString('en-US')} records, ${(bytes / 1e6).toFixed(1)} MB raw`);
run(all); // warm-up (JIT, regex compilation)
const rates: number[] = [];
let last = { ok: 0, rejected: 0 };
for (let i = 0; i < REPS; i++) {
  const r = run(all);
  rates.push(r.rate);
  last = r;
}
console.log(
  `  all sources         ${formatSpread(spread(rates), ' rec/s')}  (${last.ok} ok, ${last.rejected} rejected)`,
);
for (const [source, records] of Object.entries(inputs)) {
  const s: number[] = [];
  for (let i = 0; i < REPS; i++) s.push(run(records).rate);
  console.log(
    `  ${source.padEnd(20)}${formatSpread(spread(s), ' rec/s')}  (${records.length.toLocaleString('en-US')} records)`,
  );
}
const median = spread(rates).median;
console.log(
  `target ≥ 20,000 postings/s: ${median >= 20_000 ? 'met' : 'NOT met'} ` +
    `(median ${Math.round(median).toLocaleString('en-US')}/s)`,
);
