/**
 * A posting's per-record work in one pure function: normalize, featurize (the model's input) and the drift keywords,
 * from one tokenization of its text. The pipeline keeps the features and keywords beside the posting
 * (`rememberPrepared`), where inference and the drift window find them instead of computing them again.
 * `prepareItem` is also a parallel-map function (streams/kernel/parallel-map.ts); postings does not run it on
 * threads yet: measured slower on 2 cores (bench/README.md).
 */
import type { Label } from '../../schemas/label.ts';
import { type JobPosting, normalizePosting, type RawPosting } from '../../operators/normalize/index.ts';
import { postingTokens } from '../../operators/normalize/posting-tokens.ts';
import { keywordsOfTokens } from './drift-features.ts';
import { featurizeSparse, type SparseFeatures } from './features.ts';

export interface PreparedPosting {
  posting: JobPosting;
  features: SparseFeatures;
  keywords: string[];
}

/** What the postings stream carries before and after preparing: raw postings and labels (which pass unchanged). */
export type RawOrLabel = { raw: RawPosting } | { label: Label };
export type PreparedOrLabel = { prepared: PreparedPosting } | { label: Label };

/** Normalizes a raw posting (throws the rejection reason), then featurizes it and takes its drift keywords. */
export function preparePosting(raw: RawPosting): PreparedPosting {
  // a Buffer reaches a thread as a plain Uint8Array: the normalizers read it as a Buffer
  const received: Uint8Array = raw.raw;
  const bytes = Buffer.isBuffer(received)
    ? received
    : Buffer.from(received.buffer, received.byteOffset, received.byteLength);
  const posting = normalizePosting({ ...raw, raw: bytes });
  return { posting, features: featurizeSparse(posting), keywords: keywordsOfTokens(postingTokens(posting)) };
}

/** Per stream item: raw postings prepared, labels passed on (a parallel-map function). */
export function prepareItem(item: RawOrLabel): PreparedOrLabel {
  return 'raw' in item ? { prepared: preparePosting(item.raw) } : item;
}

const preparedByPosting = new WeakMap<JobPosting, PreparedPosting>();

/** Keeps a prepared posting's features and keywords beside its posting (main thread); returns the posting. */
export function rememberPrepared(prepared: PreparedPosting): JobPosting {
  preparedByPosting.set(prepared.posting, prepared);
  return prepared.posting;
}

export const preparedFeatures = (posting: JobPosting): SparseFeatures | undefined =>
  preparedByPosting.get(posting)?.features;
export const preparedKeywords = (posting: JobPosting): string[] | undefined => preparedByPosting.get(posting)?.keywords;
