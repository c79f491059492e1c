import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isUtf8 } from 'node:buffer';
import type { Hn2013Value, Hn2026Value, RawPosting } from '../../schemas/raw-posting.ts';
import { BATCH, inBatches } from './batches.ts';

const parseFile = (bytes: Buffer): unknown => {
  if (!isUtf8(bytes)) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
};

/** `hn-hiring-2013-2018/YYYY-MM.json` files of the folder, sorted by month. */
export async function hn2013Files(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => /^\d{4}-\d{2}\.json$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * HN "Who is hiring" 2013–2018: each file `YYYY-MM.json` is an array of posts; each post becomes one record with
 * value `{month, post}` (the month from the file name) and raw = JSON.stringify(post). A file that is not a valid
 * JSON array becomes one unparsed record holding the whole file (rejected by the normalizer).
 */
export async function* readHn2013(files: string[], batchSize = BATCH): AsyncGenerator<RawPosting[]> {
  for (const file of files) {
    const bytes = await readFile(file);
    const month = basename(file).replace(/\.json$/, '');
    const posts = parseFile(bytes);
    if (!Array.isArray(posts)) {
      yield [{ raw: bytes, source: 'hn-2013-2018', value: undefined }];
      continue;
    }
    yield* inBatches(
      posts.map(
        (post): RawPosting => ({
          raw: Buffer.from(JSON.stringify(post) ?? 'null'),
          source: 'hn-2013-2018',
          value: { month, post } satisfies Hn2013Value,
        }),
      ),
      batchSize,
    );
  }
}

/** `hn-hiring-2026/<date>/raw.json` of the folder, in sorted folder order. */
export async function hn2026Files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((d) => join(dir, d, 'raw.json'));
}

/**
 * HN "Who is hiring" 2026 collection runs (`{date, fetched_at, jobs:[{id, by, time, text}]}`). Runs overlap: a job
 * id already seen in an earlier run (files in the order given, sorted folder order by default) is dropped, so the
 * first-seen copy is kept. Jobs without a usable id are never deduplicated (the normalizer rejects them).
 */
export async function* readHn2026(files: string[], batchSize = BATCH): AsyncGenerator<RawPosting[]> {
  const seen = new Set<string>();
  for (const file of files) {
    const bytes = await readFile(file);
    const run = parseFile(bytes) as { date?: unknown; fetched_at?: unknown; jobs?: unknown } | undefined;
    if (typeof run !== 'object' || run === null || !Array.isArray(run.jobs)) {
      yield [{ raw: bytes, source: 'hn-2026', value: undefined }];
      continue;
    }
    const date = typeof run.date === 'string' ? run.date : basename(join(file, '..'));
    const fetched = typeof run.fetched_at === 'string' ? run.fetched_at : null;
    const out: RawPosting[] = [];
    for (const job of run.jobs as unknown[]) {
      const id = (job as { id?: unknown } | null)?.id;
      if (typeof id === 'number' || (typeof id === 'string' && id !== '')) {
        const key = String(id);
        if (seen.has(key)) continue;
        seen.add(key);
      }
      out.push({
        raw: Buffer.from(JSON.stringify(job) ?? 'null'),
        source: 'hn-2026',
        value: { run: date, fetched_at: fetched, job } satisfies Hn2026Value,
      });
    }
    yield* inBatches(out, batchSize);
  }
}
