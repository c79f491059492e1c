/**
 * Postings text features ('postings-hashed-v1'): the one function that turns a posting's title and description into
 * the model input, used identically at training time and on the stream.
 *
 *   - Tokens: lowercase runs of letters/digits, which may be joined by '.', '-' or '_' followed by more letters/digits
 *     ("node.js", "scikit-learn") and may end in '++' or '#' ("c++", "c#") — the rules of
 *     operators/normalize/text.ts `tokenize`, re-implemented as a char-code scanner that hashes while it scans
 *     (no regex, no token strings: the regex tokenizer alone is slower than the whole featurizer). The one
 *     difference: a leading '.' (".net") is not part of the token.
 *   - Features, each hashed with 32-bit FNV-1a into FEATURE_DIM buckets, in separate namespaces (different FNV seeds):
 *       title word unigrams + bigrams     weight 3
 *       title char 3–5-grams              weight 1   (over " " + lowercased title + " ", so word edges count)
 *       description word unigrams+bigrams weight 1
 *     Char n-grams are taken from the title only: descriptions average ~4 KB and would cost ~12k hashes a posting.
 *   - Values: log1p(weighted count) per bucket, then L2 normalization of the row (an empty posting stays all zero).
 *
 * FEATURE_DIM is 2^14. Hashing is unsigned (collisions add up).
 */

export const FEATURE_DIM = 1 << 14;
export const PREPROCESSING = 'postings-hashed-v1';
const MASK = FEATURE_DIM - 1;

const FNV_PRIME = 0x01000193;
const NS_TITLE_WORD = 0x811c9dc5; // the FNV-1a offset basis
const NS_TITLE_CHAR = 0x050c5d1f;
const NS_DESC_WORD = 0x2b5a8f3d;
const BIGRAM_SEP = 0x20;
const TITLE_WEIGHT = 3;

/** A row's nonzero values: `values[i]` belongs at `indices[i]` of a `length`-long row (the shape infer accepts). */
export interface SparseFeatures {
  length: number;
  indices: Int32Array;
  values: Float32Array;
}

export interface PostingText {
  title: string;
  description: string;
}

// --- character classes and lowercase table for the BMP (computed once) ---------------------------------------------
/** 1 = letter/digit/mark/underscore continuing a token, 2 = letter/digit that can start a token. */
const CLASS = new Uint8Array(65536);
const LOWER = new Uint16Array(65536);
{
  const start = /[\p{L}\p{N}]/u;
  const cont = /[\p{L}\p{N}\p{M}_]/u;
  for (let c = 0; c < 65536; c++) {
    const s = String.fromCharCode(c);
    if (c < 0xd800 || c > 0xdfff) {
      if (start.test(s)) CLASS[c] = 2;
      else if (cont.test(s)) CLASS[c] = 1;
      const l = s.toLowerCase();
      LOWER[c] = l.length === 1 ? l.charCodeAt(0) : c;
    } else {
      // surrogate halves: treated as letters so astral-plane letters stay inside tokens
      CLASS[c] = 2;
      LOWER[c] = c;
    }
  }
}

/** Accumulates weighted counts for one row; `touched` lists the buckets set, so finishing a row is O(nonzeros). */
class RowAccumulator {
  counts = new Float32Array(FEATURE_DIM);
  touched = new Int32Array(FEATURE_DIM);
  nTouched = 0;

  add(hash: number, weight: number): void {
    const b = hash & MASK;
    if (this.counts[b] === 0) this.touched[this.nTouched++] = b;
    this.counts[b]! += weight;
  }

  /** log1p + L2 into `out` at `offset` (which must be zero there), then resets the accumulator. */
  flush(out: Float32Array, offset: number): void {
    const { counts, touched } = this;
    const inv = this.normalize();
    for (let i = 0; i < this.nTouched; i++) {
      const b = touched[i]!;
      out[offset + b] = Math.fround(counts[b]! * inv);
      counts[b] = 0;
    }
    this.nTouched = 0;
  }

  /** The same values as `flush`, as (bucket, value) pairs in first-touched order; then resets the accumulator. */
  flushSparse(): SparseFeatures {
    const { counts, touched } = this;
    const inv = this.normalize();
    const indices = touched.slice(0, this.nTouched);
    const values = new Float32Array(this.nTouched);
    for (let i = 0; i < this.nTouched; i++) {
      const b = touched[i]!;
      values[i] = counts[b]! * inv;
      counts[b] = 0;
    }
    this.nTouched = 0;
    return { length: FEATURE_DIM, indices, values };
  }

  /** log1p of every touched count, in place; returns the factor that L2-normalizes them (0 for an empty row). */
  private normalize(): number {
    const { counts, touched } = this;
    let sq = 0;
    for (let i = 0; i < this.nTouched; i++) {
      const b = touched[i]!;
      const v = Math.log1p(counts[b]!);
      counts[b] = v;
      sq += v * v;
    }
    return sq > 0 ? 1 / Math.sqrt(sq) : 0;
  }
}

/** Hashes word unigrams and bigrams of `text` in namespace `ns`. */
function addWords(acc: RowAccumulator, text: string, ns: number, weight: number): void {
  const n = text.length;
  let prev = -1; // hash of the previous token (for bigrams), -1 = none
  let i = 0;
  while (i < n) {
    let c = LOWER[text.charCodeAt(i)]!;
    if (CLASS[c] !== 2) {
      i++;
      continue;
    }
    let h = ns;
    // token body
    for (;;) {
      h = Math.imul(h ^ c, FNV_PRIME);
      i++;
      if (i >= n) break;
      c = LOWER[text.charCodeAt(i)]!;
      if (CLASS[c] !== 0) continue;
      // joiner followed by a letter/digit continues the token
      if ((c === 0x2e || c === 0x2d || c === 0x5f) && i + 1 < n && CLASS[LOWER[text.charCodeAt(i + 1)]!] === 2) {
        h = Math.imul(h ^ c, FNV_PRIME);
        i++;
        c = LOWER[text.charCodeAt(i)]!;
        continue;
      }
      break;
    }
    // suffix: '++' or '#' not followed by a letter/digit
    if (i < n) {
      const d = text.charCodeAt(i);
      if (d === 0x2b && i + 1 < n && text.charCodeAt(i + 1) === 0x2b) {
        h = Math.imul(Math.imul(h ^ 0x2b, FNV_PRIME) ^ 0x2b, FNV_PRIME);
        i += 2;
      } else if (d === 0x23 && !(i + 1 < n && CLASS[LOWER[text.charCodeAt(i + 1)]!] === 2)) {
        h = Math.imul(h ^ 0x23, FNV_PRIME);
        i++;
      }
    }
    h >>>= 0;
    acc.add(h, weight);
    if (prev !== -1) {
      // bigram: continue FNV over (prev hash bytes, separator, this hash bytes)
      let g = Math.imul(prev ^ BIGRAM_SEP, FNV_PRIME);
      g = Math.imul(g ^ (h & 0xff), FNV_PRIME);
      g = Math.imul(g ^ ((h >>> 8) & 0xff), FNV_PRIME);
      g = Math.imul(g ^ ((h >>> 16) & 0xff), FNV_PRIME);
      g = Math.imul(g ^ (h >>> 24), FNV_PRIME);
      acc.add(g >>> 0, weight);
    }
    prev = h;
  }
}

const charBuf = new Uint16Array(4096);

/** Char 3–5-grams over " " + lowercased text (whitespace runs collapsed to one space) + " ". */
function addCharGrams(acc: RowAccumulator, text: string, ns: number, weight: number): void {
  let m = 0;
  charBuf[m++] = 0x20;
  const n = Math.min(text.length, charBuf.length - 2);
  for (let i = 0; i < n; i++) {
    let c = LOWER[text.charCodeAt(i)]!;
    if (c === 0x09 || c === 0x0a || c === 0x0d || c === 0xa0) c = 0x20;
    if (c === 0x20 && charBuf[m - 1] === 0x20) continue;
    charBuf[m++] = c;
  }
  if (charBuf[m - 1] !== 0x20) charBuf[m++] = 0x20;
  for (let i = 0; i + 3 <= m; i++) {
    let h = Math.imul(ns ^ charBuf[i]!, FNV_PRIME);
    h = Math.imul(h ^ charBuf[i + 1]!, FNV_PRIME);
    h = Math.imul(h ^ charBuf[i + 2]!, FNV_PRIME);
    acc.add(h >>> 0, weight);
    if (i + 4 > m) continue;
    h = Math.imul(h ^ charBuf[i + 3]!, FNV_PRIME);
    acc.add(h >>> 0, weight);
    if (i + 5 > m) continue;
    h = Math.imul(h ^ charBuf[i + 4]!, FNV_PRIME);
    acc.add(h >>> 0, weight);
  }
}

const shared = new RowAccumulator();

/** Hashes a posting's features into `shared` (flushed by the caller). */
function accumulate(posting: PostingText): void {
  const title = posting.title ?? '';
  addWords(shared, title, NS_TITLE_WORD, TITLE_WEIGHT);
  addCharGrams(shared, title, NS_TITLE_CHAR, 1);
  addWords(shared, posting.description ?? '', NS_DESC_WORD, 1);
}

function featurizeInto(posting: PostingText, out: Float32Array, offset: number): void {
  accumulate(posting);
  shared.flush(out, offset);
}

/**
 * One posting → its nonzero features only (a few hundred of FEATURE_DIM): the same values as `featurize`, for the
 * stream, where a dense 64 KB row per posting would mostly be zeros to allocate, copy and collect.
 */
export function featurizeSparse(posting: PostingText): SparseFeatures {
  accumulate(posting);
  return shared.flushSparse();
}

/** One posting → a FEATURE_DIM row (a fresh array). */
export function featurize(posting: PostingText): Float32Array {
  const out = new Float32Array(FEATURE_DIM);
  featurizeInto(posting, out, 0);
  return out;
}

/** Postings → row-major [postings.length, FEATURE_DIM] (into `out` when given; it is zeroed first). */
export function featurizeBatch(postings: readonly PostingText[], out?: Float32Array): Float32Array {
  const size = postings.length * FEATURE_DIM;
  let target: Float32Array;
  if (out === undefined) target = new Float32Array(size);
  else {
    if (out.length < size) throw new Error(`featurizeBatch: output holds ${out.length} values, ${size} needed`);
    target = out;
    target.fill(0, 0, size);
  }
  for (let i = 0; i < postings.length; i++) featurizeInto(postings[i]!, target, i * FEATURE_DIM);
  return target;
}
