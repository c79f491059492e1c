/**
 * Dedup keys for uncertainty sampling: two inputs with the same key (text) or with perceptual hashes within a
 * Hamming distance (frames) are the same item to a labeller, and only one of them is worth a label.
 *
 *   - Text: a hash of the title and description after normalization (HTML stripped, entities decoded, lowercased,
 *     every run of non-letter/digit characters → one space). Re-posts that differ only in markup, case,
 *     punctuation or spacing get the same key; any change of wording gives another key.
 *   - Frames: a 64-bit perceptual hash (pHash: the signs of the lowest 2-D DCT frequencies against their median).
 *     Low frequencies survive re-encoding, sensor noise and a change of brightness, so a re-sent or slightly
 *     altered frame lands within a few bits of the original, while different frames differ in about half of them.
 *
 * Why pHash and not the simpler average hash (8×8 cells vs their mean): measured on all 1,770 NEU-DET frames, aHash
 * puts ~12,000 of the 1.56 M pairs of different frames within 5 bits, 248 of them at 0 (steel strips share one
 * illumination gradient, which is all 64 coarse cells see). pHash puts 6 such pairs within 10 bits, while 99.8 %
 * of JPEG re-encoded (q80, +5 % brightness) and 99.9 % of lightly noised (σ 0.01, +0.03) copies stay within 10
 * (99 % within 8).
 */
import { createHash } from 'node:crypto';
import { htmlToText } from '../normalize/text.ts';

/** A perceptual hash and how many differing bits still count as the same item. */
export interface NearKey {
  hash: bigint;
  maxDistance: number;
}

/** An exact key (string) or a perceptual one. */
export type DedupKey = string | NearKey;

/** Up to 10 of the 64 pHash bits may differ (the usual pHash threshold; see the measurements above). */
export const DEFAULT_MAX_DISTANCE = 10;

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
/** 1 for the BMP letters and digits (surrogates are decided per code point). Built once: ~10 ms at import. */
const WORD_CHAR = Uint8Array.from({ length: 65536 }, (_, c) =>
  (c < 0xd800 || c > 0xdfff) && LETTER_OR_DIGIT.test(String.fromCharCode(c)) ? 1 : 0,
);

/**
 * The runs of letters/digits of `text` joined by single spaces: `text.replace(/[^\p{L}\p{N}]+/gu, ' ').trim()`, 8×
 * faster.
 */
function wordRuns(text: string): string {
  const runs: string[] = [];
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let word = WORD_CHAR[c] === 1;
    let width = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        word = LETTER_OR_DIGIT.test(text.slice(i, i + 2));
        width = 2;
      }
    }
    if (word && start < 0) start = i;
    else if (!word && start >= 0) {
      runs.push(text.slice(start, i));
      start = -1;
    }
    i += width - 1;
  }
  if (start >= 0) runs.push(text.slice(start));
  return runs.join(' ');
}

/** Text as the dedup key sees it: no markup, lowercase, punctuation and whitespace runs as single spaces. */
export function normalizeForDedup(text: string): string {
  return wordRuns(htmlToText(text).toLowerCase());
}

/**
 * Key of a posting's title and description: 128 bits of SHA-256 over the normalized text (descriptions average
 * ~4 KB; the key keeps the memory of already queued items small). Identical normalized text → identical key.
 */
export function textKey(title: string, description: string): string {
  return createHash('sha256')
    .update(normalizeForDedup(title))
    .update('\n')
    .update(normalizeForDedup(description))
    .digest('hex')
    .slice(0, 32);
}

export const postingKey = (posting: { title: string; description: string }): string =>
  textKey(posting.title, posting.description);

/** What `perceptualHash` needs of a frame (operators/normalize/frame.ts NormalizedFrame has it). */
export interface FrameTensor {
  tensor: Float32Array;
  width: number;
  height: number;
  channels: number;
}

const GRID = 32;
const LOW = 8;
/** COS[u·GRID + x] = cos((2x + 1)·u·π / 2·GRID): the DCT-II basis for the LOW lowest frequencies. */
const COS = Float64Array.from({ length: LOW * GRID }, (_, i) =>
  Math.cos(((2 * (i % GRID) + 1) * Math.floor(i / GRID) * Math.PI) / (2 * GRID)),
);

/**
 * pHash of a row-major frame (values in [0,1], channels interleaved and averaged), as imagehash computes it:
 * 32×32 cells by area averaging, 2-D DCT-II, the 8×8 lowest frequencies, bit = coefficient > their median;
 * coefficient (0,0) in the highest bit.
 */
export function perceptualHash(frame: FrameTensor): bigint {
  const { tensor, width, height, channels } = frame;
  if (tensor.length !== width * height * channels)
    throw new Error(`frame tensor has ${tensor.length} values, expected ${width}x${height}x${channels}`);
  if (width < GRID || height < GRID)
    throw new Error(`frame ${width}x${height} is smaller than the ${GRID}x${GRID} hash grid`);
  const cells = new Float64Array(GRID * GRID);
  const counts = new Float64Array(GRID * GRID);
  for (let y = 0; y < height; y++) {
    const row = Math.floor((y * GRID) / height) * GRID;
    for (let x = 0; x < width; x++) {
      const cell = row + Math.floor((x * GRID) / width);
      const at = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) cells[cell]! += tensor[at + c]!;
      counts[cell]! += channels;
    }
  }
  for (let i = 0; i < cells.length; i++) cells[i]! /= counts[i]!;
  // Separable DCT: columns first (LOW × GRID), then rows (LOW × LOW).
  const half = new Float64Array(LOW * GRID);
  for (let u = 0; u < LOW; u++) {
    for (let x = 0; x < GRID; x++) {
      let s = 0;
      for (let y = 0; y < GRID; y++) s += COS[u * GRID + y]! * cells[y * GRID + x]!;
      half[u * GRID + x] = s;
    }
  }
  const coefficients = new Float64Array(LOW * LOW);
  for (let u = 0; u < LOW; u++) {
    for (let v = 0; v < LOW; v++) {
      let s = 0;
      for (let x = 0; x < GRID; x++) s += half[u * GRID + x]! * COS[v * GRID + x]!;
      coefficients[u * LOW + v] = s;
    }
  }
  const sorted = coefficients.slice().sort();
  const median = (sorted[(LOW * LOW) / 2 - 1]! + sorted[(LOW * LOW) / 2]!) / 2;
  let hash = 0n;
  for (let i = 0; i < coefficients.length; i++) hash = (hash << 1n) | (coefficients[i]! > median ? 1n : 0n);
  return hash;
}

export const frameKey = (frame: FrameTensor, maxDistance = DEFAULT_MAX_DISTANCE): NearKey => ({
  hash: perceptualHash(frame),
  maxDistance,
});

/** A hash as 32-bit words (least significant first): comparing words is much cheaper than bigint arithmetic. */
export function hashWords(hash: bigint): Uint32Array {
  if (hash < 0n) throw new Error('a perceptual hash must be non-negative');
  const words: number[] = [];
  for (let h = hash; h > 0n || words.length === 0; h >>= 32n) words.push(Number(h & 0xffffffffn));
  return Uint32Array.from(words);
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Differing bits of two hashes in word form (a missing word counts as zero). */
export function wordDistance(a: Uint32Array, b: Uint32Array): number {
  let d = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) d += popcount32(((a[i] ?? 0) ^ (b[i] ?? 0)) >>> 0);
  return d;
}

export const hammingDistance = (a: bigint, b: bigint): number => wordDistance(hashWords(a), hashWords(b));

/** What identifies an item for dedup: its record id, plus an exact key or a perceptual hash (in word form). */
export interface ItemKeys {
  id: string;
  key: string | null;
  words: Uint32Array | null;
  maxDistance: number;
}

export function itemKeys(id: string, dedup: DedupKey | null): ItemKeys {
  if (dedup === null || typeof dedup === 'string') return { id, key: dedup, words: null, maxDistance: 0 };
  if (!Number.isInteger(dedup.maxDistance) || dedup.maxDistance < 0)
    throw new Error(`maxDistance must be a non-negative integer, got ${dedup.maxDistance}`);
  return { id, key: null, words: hashWords(dedup.hash), maxDistance: dedup.maxDistance };
}

/** Same record id, same exact key, or hashes within the larger of the two distances. */
export function isDuplicate(a: ItemKeys, b: ItemKeys): boolean {
  if (a.id === b.id) return true;
  if (a.key !== null && a.key === b.key) return true;
  return (
    a.words !== null && b.words !== null && wordDistance(a.words, b.words) <= Math.max(a.maxDistance, b.maxDistance)
  );
}

/**
 * The keys of the last `capacity` queued items, least recently used forgotten first; a lookup that finds an item
 * counts as a use, so an item that keeps coming back stays remembered. Exact keys are map lookups; perceptual
 * hashes are compared one by one (capacity × a few word operations per lookup).
 */
export class QueuedKeys {
  private next = 0;
  /** seq → keys, in order of last use. */
  private readonly entries = new Map<number, ItemKeys>();
  private readonly ids = new Map<string, number>();
  private readonly keys = new Map<string, number>();
  private readonly hashed = new Map<number, ItemKeys>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new Error(`capacity must be a non-negative integer, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  has(item: ItemKeys): boolean {
    let seq = this.ids.get(item.id) ?? (item.key !== null ? this.keys.get(item.key) : undefined);
    if (seq === undefined && item.words !== null) {
      for (const [s, other] of this.hashed) {
        if (isDuplicate(item, other)) {
          seq = s;
          break;
        }
      }
    }
    if (seq === undefined) return false;
    const entry = this.entries.get(seq)!;
    this.entries.delete(seq);
    this.entries.set(seq, entry);
    return true;
  }

  add(keys: ItemKeys): void {
    if (this.capacity === 0) return;
    const seq = this.next++;
    // A copy of the keys only: the caller's object (a queued candidate) may reference much more.
    const item: ItemKeys = { id: keys.id, key: keys.key, words: keys.words, maxDistance: keys.maxDistance };
    this.entries.set(seq, item);
    this.ids.set(item.id, seq);
    if (item.key !== null) this.keys.set(item.key, seq);
    if (item.words !== null) this.hashed.set(seq, item);
    while (this.entries.size > this.capacity) {
      const [oldest, old] = this.entries.entries().next().value as [number, ItemKeys];
      this.entries.delete(oldest);
      if (this.ids.get(old.id) === oldest) this.ids.delete(old.id);
      if (old.key !== null && this.keys.get(old.key) === oldest) this.keys.delete(old.key);
      this.hashed.delete(oldest);
    }
  }
}
