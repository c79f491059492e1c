/**
 * The demo's generated data directory: laid out as shared/data, so every reader the pipelines and trainers use takes
 * each file (the broken records are the intended ones), and deterministic (same seed, same bytes).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtures, FIXTURE_SIZES } from '../../cli/demo/fixtures/index.ts';
import { FRAME_CLASSES } from '../../cli/demo/fixtures/frames.ts';
import { XSS_IMG, XSS_JOB_ID, XSS_SCRIPT, XSS_TITLE } from '../../cli/demo/fixtures/postings.ts';
import { readImageHeader } from '../../schemas/image-header.ts';
import { parseEventTime, readEventFiles } from '../../connectors/files/event-files.ts';
import { readHn2026TruthFiles } from '../../connectors/labels/hn-2026-truth.ts';
import { readHn2013, readHn2026 } from '../../connectors/postings/hn.ts';
import { postingsFileKind } from '../../connectors/postings/postings-messages.ts';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import { loadNeuDet } from '../../models/frames/dataset.ts';
import { loadPostingsDataset } from '../../models/postings/train.ts';
import { type JobPosting, normalizePosting } from '../../operators/normalize/index.ts';
import type { RawPosting } from '../../schemas/raw-posting.ts';
import { validateEvent } from '../../streams/pipelines/events.ts';
import { readNabWindows } from '../../streams/pipelines/nab-labels.ts';
import { postingsPipeline } from '../../streams/pipelines/postings.ts';

const dir = join(mkdtempSync(join(tmpdir(), 'driftline-demo-fixtures-')), 'data');
const allFiles = (root: string): string[] =>
  readdirSync(root).flatMap((name) =>
    statSync(join(root, name)).isDirectory() ? allFiles(join(root, name)) : [join(root, name)],
  );
const postingsDir = (...parts: string[]) => join(dir, 'postings', ...parts);

async function collect<T>(batches: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const batch of batches) out.push(...batch);
  return out;
}

/** Normalized postings, and the reasons of those the normalizer rejects. */
function normalizeAll(raws: RawPosting[]) {
  const postings: JobPosting[] = [];
  const rejected: string[] = [];
  for (const raw of raws) {
    try {
      postings.push(normalizePosting(raw));
    } catch (error) {
      rejected.push((error as Error).message);
    }
  }
  return { postings, rejected };
}

beforeAll(async () => {
  await ensureFixtures(dir);
});

describe('demo fixtures', () => {
  it('are deterministic: same seed, same bytes; another seed, other bytes; an identical directory stays', async () => {
    const again = join(mkdtempSync(join(tmpdir(), 'driftline-demo-fixtures-')), 'data');
    await ensureFixtures(again);
    const files = allFiles(dir)
      .map((f) => relative(dir, f))
      .sort();
    expect(
      allFiles(again)
        .map((f) => relative(again, f))
        .sort(),
    ).toEqual(files);
    for (const f of files) expect(readFileSync(join(again, f)).equals(readFileSync(join(dir, f))), f).toBe(true);

    const other = join(mkdtempSync(join(tmpdir(), 'driftline-demo-fixtures-')), 'data');
    await ensureFixtures(other, 7);
    const glassdoor = join('postings', 'glassdoor-2020', 'software_engineer.csv');
    expect(readFileSync(join(other, glassdoor)).equals(readFileSync(join(dir, glassdoor)))).toBe(false);

    expect((await ensureFixtures(again)).written).toBe(false);
    writeFileSync(join(again, 'GENERATED.json'), '{}'); // e.g. an older generator's marker
    expect((await ensureFixtures(again)).written).toBe(true);
  });

  it('Glassdoor CSVs: Model A’s trainer reads both classes from every row', async () => {
    const data = await loadPostingsDataset(dir);
    expect(data.files).toEqual(['data_science.csv', 'software_engineer.csv']);
    expect(data.rejected).toBe(0);
    const ones = data.labels.filter((l) => l === 1).length;
    expect(ones).toBe(FIXTURE_SIZES.glassdoorRowsPerFile); // the duplicate rows are dropped
    expect(data.labels.length - ones).toBe(FIXTURE_SIZES.glassdoorRowsPerFile);
  });

  it('HN 2013–2018 months: every post normalizes except the one without an id', async () => {
    const files = readdirSync(postingsDir('hn-hiring-2013-2018'))
      .sort()
      .map((f) => postingsDir('hn-hiring-2013-2018', f));
    expect(files).toHaveLength(FIXTURE_SIZES.hn2013Months);
    expect(files.every((f) => postingsFileKind(f) === 'hn2013')).toBe(true);
    const { postings, rejected } = normalizeAll(await collect(readHn2013(files)));
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatch(/missing id/);
    expect(postings).toHaveLength(FIXTURE_SIZES.hn2013Months * FIXTURE_SIZES.hn2013PerMonth - 1);
    expect(new Set(postings.map((p) => new Date(p.posted_at!).toISOString().slice(0, 7))).size).toBe(
      FIXTURE_SIZES.hn2013Months,
    );
  });

  it('HN 2026 runs: postings normalize (but the deleted one), XSS payloads stay text, truth labels them', async () => {
    const runs = FIXTURE_SIZES.hn2026Runs.map((run) => postingsDir('hn-hiring-2026', run));
    const raws = runs.map((r) => join(r, 'raw.json'));
    expect(raws.every((f) => postingsFileKind(f) === 'hn2026')).toBe(true);
    const { postings, rejected } = normalizeAll(await collect(readHn2026(raws)));
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatch(/'text' must be a string/);
    // runs overlap by 10 %
    expect(postings.length).toBeGreaterThan(FIXTURE_SIZES.hn2026Runs.length * FIXTURE_SIZES.hn2026PerRun * 0.85);
    const xss = postings.find((p) => p.id === String(XSS_JOB_ID))!;
    expect(xss.title).toBe(XSS_TITLE);
    expect(xss.description).toContain(XSS_SCRIPT);
    expect(xss.description).toContain(XSS_IMG);
    const terms = (re: RegExp) => postings.filter((p) => re.test(p.description)).length;
    expect(terms(/\b(LLMs?|RAG|agentic)\b/)).toBeGreaterThan(postings.length * 0.2);

    const labels = await readHn2026TruthFiles(runs.map((r) => join(r, 'classified.json')));
    const ids = new Set(postings.map((p) => p.id));
    expect(labels.every((l) => ids.has(l.record_id))).toBe(true);
    const dataRoles = labels.filter((l) => l.label === 1).length;
    expect(dataRoles / labels.length).toBeGreaterThan(0.3);
    expect(dataRoles / labels.length).toBeLessThan(0.7);
    // every posting time is within its run's scrape (the normalizer refuses postings dated after fetched_at)
    expect(postings.every((p) => p.scraped_at === null || p.posted_at! <= p.scraped_at + 86_400_000)).toBe(true);
  });

  it('the postings pipeline takes every postings file, classified.json as its label input', () => {
    const files = allFiles(join(dir, 'postings'));
    expect(files.filter((f) => !postingsPipeline.acceptsFile(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('classified.json'))).toHaveLength(FIXTURE_SIZES.hn2026Runs.length);
  });

  it('NEU-DET frames: six classes by file-name prefix, through the frame model’s own dataset reader', async () => {
    const images = join(dir, 'frames', 'neu-det', 'images');
    for (const f of readdirSync(images))
      expect(readImageHeader(readFileSync(join(images, f)))).toMatchObject({
        format: 'jpeg',
        width: FIXTURE_SIZES.frameSize,
        channels: 1,
      });
    const data = await loadNeuDet(dir, { size: 48, seed: 7 });
    expect(data.classes).toEqual([...FRAME_CLASSES]);
    expect(data.train.labels.length + data.heldOut.labels.length).toBe(6 * FIXTURE_SIZES.framesPerClass);
    for (let c = 0; c < 6; c++)
      expect(data.heldOut.labels.filter((l) => l === c).length).toBe(FIXTURE_SIZES.framesPerClass * 0.2);
  });

  it('NAB series: every row but the two broken ones is a valid event; each series has a labelled window', async () => {
    const nab = join(dir, 'events', 'nab');
    const files = readdirSync(join(nab, 'data', 'realKnownCause')).map((f) => join(nab, 'data', 'realKnownCause', f));
    const messages: Message[] = await collect(readEventFiles(files));
    const problems: string[] = [];
    const events = messages.flatMap((m) => {
      try {
        return [validateEvent(JSON.parse(m.value.toString()))];
      } catch (error) {
        problems.push((error as Error).message);
        return [];
      }
    });
    expect(problems).toHaveLength(2 * files.length);
    expect(events).toHaveLength(files.length * FIXTURE_SIZES.eventDays * 288);
    const windows = readNabWindows(join(nab, 'labels', 'combined_windows.json'));
    expect([...windows.keys()].sort()).toEqual([...new Set(events.map((e) => e.key))].sort());
    for (const [series, [w]] of windows) {
      const times = events.filter((e) => e.key === series).map((e) => e.ts);
      expect(w!.start).toBeGreaterThan(Math.min(...times));
      expect(w!.end).toBeLessThan(Math.max(...times));
    }
    expect(parseEventTime('2026-01-05 00:00:00')).toBe(events[0]!.ts);
  });
});
