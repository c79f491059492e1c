import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataFile } from '../../test/data-dir.ts';
import { type JobPosting, normalizePosting } from '../normalize/index.ts';
import { type NormalizedFrame, normalizeFrame } from '../normalize/frame.ts';
import { htmlToText } from '../normalize/text.ts';
import {
  DEFAULT_MAX_DISTANCE,
  QueuedKeys,
  hammingDistance,
  hashWords,
  isDuplicate,
  itemKeys,
  normalizeForDedup,
  perceptualHash,
  postingKey,
  textKey,
  wordDistance,
} from './near-duplicate.ts';

/**
 * Every job of every HN 2026 collection run, re-posts and repeated runs included (the connector would drop repeated
 * ids).
 */
function allHn2026Jobs(): { run: string; posting: JobPosting; html: string }[] {
  const dir = dataFile('postings', 'hn-hiring-2026');
  const out: { run: string; posting: JobPosting; html: string }[] = [];
  for (const run of readdirSync(dir).sort()) {
    const file = JSON.parse(readFileSync(`${dir}/${run}/raw.json`, 'utf8')) as {
      date: string;
      fetched_at: string;
      jobs: { text: string }[];
    };
    for (const job of file.jobs) {
      const posting = normalizePosting({
        raw: Buffer.from(JSON.stringify(job)),
        source: 'hn-2026',
        value: { run: file.date, fetched_at: file.fetched_at, job },
      });
      out.push({ run, posting, html: job.text });
    }
  }
  return out;
}

describe('text dedup keys', () => {
  it('ignore markup, entities, case, punctuation and spacing, but not wording', () => {
    expect(normalizeForDedup('<p>Senior  Engineer &amp; ML</p><p>Remote, (US)!</p>')).toBe(
      'senior engineer ml remote us',
    );
    const key = textKey('Acme | ML Engineer', 'We build <i>agents</i>.<p>Python, Rust.');
    expect(textKey('ACME - ml engineer', 'We build agents.\nPython Rust')).toBe(key);
    expect(textKey('Acme | ML Engineer', 'We build agents. Python, Go.')).not.toBe(key);
    expect(textKey('Acme | Data Engineer', 'We build agents. Python, Rust.')).not.toBe(key);
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    // letters and digits of any script (astral ones too), nothing else
    expect(normalizeForDedup('Ünïcode—ДАННЫЕ 𝐀𝐈 😀 ml\u200b')).toBe('ünïcode данные 𝐀𝐈 ml'); // 𝐀𝐈 has no lowercase form
  });

  it('normalize exactly as the regex definition does, on every real HN 2026 text', () => {
    const definition = (t: string) =>
      htmlToText(t)
        .toLowerCase()
        .replace(/[^\p{L}\p{N}]+/gu, ' ')
        .trim();
    const jobs = allHn2026Jobs();
    for (const { posting, html } of jobs) {
      for (const t of [posting.title, posting.description, html]) expect(normalizeForDedup(t)).toBe(definition(t));
    }
  });

  it('give real HN 2026 re-posts (new ids, same text, other markup) one key, and edited posts another', () => {
    const jobs = allHn2026Jobs();
    const idsByKey = new Map<string, Set<string>>();
    const htmlByKey = new Map<string, Set<string>>();
    const keysById = new Map<string, Set<string>>();
    for (const { posting, html } of jobs) {
      const k = postingKey(posting);
      (idsByKey.get(k) ?? idsByKey.set(k, new Set()).get(k)!).add(posting.id);
      (htmlByKey.get(k) ?? htmlByKey.set(k, new Set()).get(k)!).add(html);
      (keysById.get(posting.id) ?? keysById.set(posting.id, new Set()).get(posting.id)!).add(k);
    }
    const reposted = [...idsByKey].filter(([, ids]) => ids.size > 1).map(([k]) => k);
    // the same job posted again under a new id (usually the next month), found by its text
    expect(reposted.length).toBeGreaterThan(20);
    // many re-posts differ in their raw HTML (<p> vs newlines, spacing) and still share the key
    expect(reposted.filter((k) => htmlByKey.get(k)!.size > 1).length).toBeGreaterThan(10);
    // distinct postings keep distinct keys: the keys are as many as the distinct normalized texts
    const texts = new Set(
      jobs.map(({ posting }) => `${normalizeForDedup(posting.title)}\n${normalizeForDedup(posting.description)}`),
    );
    expect(idsByKey.size).toBe(texts.size);
    // a post edited between two collection runs keeps its id but gets a new key: the record id still ties them
    expect([...keysById.values()].some((keys) => keys.size > 1)).toBe(true);
  });
});

describe('frame dedup keys (pHash) on real NEU-DET frames', () => {
  const dir = () => dataFile('frames', 'neu-det', 'images');
  const load = (data: Buffer, sequence = 0) =>
    normalizeFrame({
      camera_id: 'neu-det',
      sequence,
      captured_at: 0,
      width: 200,
      height: 200,
      channels: 1,
      encoding: 'jpeg',
      data,
    });
  let seed = 7;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const gaussian = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  /** A slightly noised (σ 0.01) and brightened (+0.03) copy of a frame. */
  const noised = (f: NormalizedFrame): NormalizedFrame => ({
    ...f,
    tensor: f.tensor.map((v) => Math.min(1, Math.max(0, v + 0.03 + gaussian() * 0.01))),
  });

  let files: string[];
  beforeAll(() => {
    files = readdirSync(dir())
      .filter((f) => f.endsWith('.jpg'))
      .sort();
  });

  it('a frame and its noised, brightened copy are near-identical; another frame is not', async () => {
    const frame = await load(readFileSync(`${dir()}/scratches_12.jpg`));
    const other = await load(readFileSync(`${dir()}/scratches_13.jpg`));
    const copy = noised(frame);
    const h = perceptualHash(frame);
    expect(hammingDistance(h, perceptualHash(copy))).toBeLessThanOrEqual(DEFAULT_MAX_DISTANCE);
    expect(hammingDistance(h, perceptualHash(other))).toBeGreaterThan(DEFAULT_MAX_DISTANCE);
    // the same frame in RGB (three equal channels) hashes the same as in gray
    const rgb = {
      ...frame,
      channels: 3,
      tensor: Float32Array.from({ length: frame.tensor.length * 3 }, (_, i) => frame.tensor[Math.floor(i / 3)]!),
    };
    expect(perceptualHash(rgb)).toBe(h);
  });

  it('over all 1,770 frames: copies within the threshold, different frames beyond it (rates)', async () => {
    const originals = await Promise.all(files.map((f, i) => load(readFileSync(`${dir()}/${f}`), i)));
    const reencoded = await Promise.all(
      files.map(async (f, i) =>
        load(
          await sharp(readFileSync(`${dir()}/${f}`))
            .modulate({ brightness: 1.05 })
            .jpeg({ quality: 80 })
            .toBuffer(),
          i,
        ),
      ),
    );
    const hashes = originals.map(perceptualHash);
    const share = (ds: number[]) => ds.filter((d) => d <= DEFAULT_MAX_DISTANCE).length / ds.length;
    const reencodedShare = share(reencoded.map((f, i) => hammingDistance(hashes[i]!, perceptualHash(f))));
    const noisedShare = share(originals.map((f, i) => hammingDistance(hashes[i]!, perceptualHash(noised(f)))));
    const bytes = files.map((f) =>
      createHash('sha256')
        .update(readFileSync(`${dir()}/${f}`))
        .digest('hex'),
    );
    const words = hashes.map(hashWords);
    let pairs = 0;
    let falseMatches = 0;
    for (let i = 0; i < words.length; i++) {
      for (let j = i + 1; j < words.length; j++) {
        if (bytes[i] === bytes[j]) continue;
        pairs++;
        if (wordDistance(words[i]!, words[j]!) <= DEFAULT_MAX_DISTANCE) falseMatches++;
      }
    }
    console.log(
      `[pHash] copies within ${DEFAULT_MAX_DISTANCE} bits: re-encoded ${(reencodedShare * 100).toFixed(2)} %, ` +
        `noised ${(noisedShare * 100).toFixed(2)} %; different frames within: ${falseMatches} of ${pairs} pairs`,
    );
    expect(reencodedShare).toBeGreaterThanOrEqual(0.99);
    expect(noisedShare).toBeGreaterThanOrEqual(0.99);
    expect(falseMatches / pairs).toBeLessThan(1e-5);
  });

  it('the byte-identical pair in NEU-DET hashes identically', async () => {
    const byBytes = new Map<string, string[]>();
    for (const f of files) {
      const h = createHash('sha256')
        .update(readFileSync(`${dir()}/${f}`))
        .digest('hex');
      byBytes.set(h, [...(byBytes.get(h) ?? []), f]);
    }
    const twins = [...byBytes.values()].filter((g) => g.length > 1);
    expect(twins.length).toBeGreaterThan(0);
    for (const [a, b] of twins) {
      const [fa, fb] = await Promise.all([load(readFileSync(`${dir()}/${a}`)), load(readFileSync(`${dir()}/${b}`))]);
      expect(hammingDistance(perceptualHash(fa), perceptualHash(fb))).toBe(0);
    }
  });
});

describe('hash words and the memory of queued items', () => {
  it('count differing bits of hashes of any width', () => {
    expect(hammingDistance(0b1011n, 0b0001n)).toBe(2);
    expect(hammingDistance(0n, (1n << 64n) - 1n)).toBe(64);
    expect(hammingDistance(1n << 70n, 0n)).toBe(1);
    expect([...hashWords(0x1_0000_0002n)]).toEqual([2, 1]);
  });

  it('treat the same id, the same key, or hashes within the distance as one item', () => {
    const a = itemKeys('r1', 'text-a');
    expect(isDuplicate(a, itemKeys('r1', 'text-b'))).toBe(true);
    expect(isDuplicate(a, itemKeys('r2', 'text-a'))).toBe(true);
    expect(isDuplicate(a, itemKeys('r2', 'text-b'))).toBe(false);
    const h = itemKeys('f1', { hash: 0xffn, maxDistance: 2 });
    expect(isDuplicate(h, itemKeys('f2', { hash: 0xfcn, maxDistance: 2 }))).toBe(true);
    expect(isDuplicate(h, itemKeys('f2', { hash: 0xf8n, maxDistance: 2 }))).toBe(false);
  });

  it('forget the least recently used item beyond capacity; a lookup counts as use', () => {
    const memory = new QueuedKeys(2);
    memory.add(itemKeys('a', 'ka'));
    memory.add(itemKeys('b', 'kb'));
    expect(memory.has(itemKeys('x', 'ka'))).toBe(true); // a used: b is now the oldest
    memory.add(itemKeys('c', { hash: 0b1111n, maxDistance: 1 }));
    expect(memory.size).toBe(2);
    expect(memory.has(itemKeys('b', null))).toBe(false);
    expect(memory.has(itemKeys('y', 'kb'))).toBe(false);
    expect(memory.has(itemKeys('a', null))).toBe(true);
    expect(memory.has(itemKeys('z', { hash: 0b0111n, maxDistance: 1 }))).toBe(true);
    expect(memory.has(itemKeys('z', { hash: 0b0011n, maxDistance: 1 }))).toBe(false);
    const none = new QueuedKeys(0);
    none.add(itemKeys('a', null));
    expect(none.has(itemKeys('a', null))).toBe(false);
  });
});
