/**
 * Keyword skew: the terms whose share of documents rose (emerging) or fell (vanishing) most against the reference.
 * This is how "llm", "agentic" and "rag" show up in 2026 postings against 2013–2018 ones.
 *
 * Score: log((window df + ½) / (window docs + 1)) − log((reference df + ½) / (reference docs + 1)). The ½ pseudo-count
 * keeps a term absent on one side finite and ranks a term seen in 40 documents above one seen in 2. A term outside
 * the reference's stored vocabulary (its most frequent terms) counts as reference df 0.
 */
import type { KeywordReference } from './reference-profile.ts';

export interface KeywordShift {
  term: string;
  direction: 'emerging' | 'vanishing';
  /** 1 = strongest shift in its direction. */
  rank: number;
  referenceShare: number;
  windowShare: number;
  logRatio: number;
}

export interface KeywordSkewOptions {
  /** Terms reported per direction. Default 10. */
  top?: number;
  /** An emerging term must appear in at least this many window documents. Default 5. */
  minWindowDocuments?: number;
  /** A vanishing term must have had at least this share of reference documents. Default 0.01. */
  minReferenceShare?: number;
}

export function keywordSkew(
  reference: KeywordReference,
  windowDf: Map<string, number>,
  windowDocs: number,
  options: KeywordSkewOptions = {},
): KeywordShift[] {
  const top = options.top ?? 10;
  const minDocs = options.minWindowDocuments ?? 5;
  const minRefShare = options.minReferenceShare ?? 0.01;
  const refDocs = reference.documents;
  const score = (w: number, r: number) => Math.log((w + 0.5) / (windowDocs + 1)) - Math.log((r + 0.5) / (refDocs + 1));
  const shift = (term: string, w: number, r: number) => ({
    term,
    referenceShare: refDocs > 0 ? r / refDocs : 0,
    windowShare: windowDocs > 0 ? w / windowDocs : 0,
    logRatio: score(w, r),
  });

  const index = indexed(reference);
  const emerging = [];
  for (const [term, w] of windowDf) {
    if (w < minDocs) continue;
    const s = shift(term, w, index.frequency.get(term) ?? 0);
    if (s.logRatio > 0) emerging.push(s);
  }
  const vanishing = [];
  for (const [term, r] of index.byFrequency) {
    if (r / refDocs < minRefShare) break; // the rest are rarer still
    const s = shift(term, windowDf.get(term) ?? 0, r);
    if (s.logRatio < 0) vanishing.push(s);
  }
  const byTerm = (a: { term: string }, b: { term: string }) => (a.term < b.term ? -1 : a.term > b.term ? 1 : 0);
  emerging.sort((a, b) => b.logRatio - a.logRatio || byTerm(a, b));
  vanishing.sort((a, b) => a.logRatio - b.logRatio || byTerm(a, b));
  return [
    ...emerging.slice(0, top).map((s, i): KeywordShift => ({ ...s, direction: 'emerging', rank: i + 1 })),
    ...vanishing.slice(0, top).map((s, i): KeywordShift => ({ ...s, direction: 'vanishing', rank: i + 1 })),
  ];
}

interface IndexedReference {
  /** Term → reference df (a Map: lookups in a 20k-key object are slower). */
  frequency: Map<string, number>;
  /** The terms, most frequent first: a window's vanishing candidates are a prefix. */
  byFrequency: [string, number][];
}

/** Built once per reference: every window report of a run tests against the same one. */
const indexes = new WeakMap<KeywordReference, IndexedReference>();

function indexed(reference: KeywordReference): IndexedReference {
  let index = indexes.get(reference);
  if (!index) {
    const entries = Object.entries(reference.documentFrequency);
    index = { frequency: new Map(entries), byFrequency: entries.sort((a, b) => b[1] - a[1]) };
    indexes.set(reference, index);
  }
  return index;
}
