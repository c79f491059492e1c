/**
 * What is monitored for drift around the postings classifier, as functions of a posting (and of the model's
 * prediction for it): description length, seniority, predicted class, confidence, and the posting's terms
 * (lowercase tokens of title and description without English stop words, numbers and one-letter tokens — the words
 * that carry meaning, so top-K keywords and keyword skew name technologies and roles, not "the").
 */
import type { DriftFeatures } from '../../operators/drift/drift-features.ts';
import type { JobPosting } from '../../operators/normalize/index.ts';
import type { PostingText } from './features.ts';
import { postingTokens } from '../../operators/normalize/posting-tokens.ts';
import { tokenize } from '../../operators/normalize/text.ts';

const STOP_WORDS = new Set(
  (
    'a about above after again all also am an and any are as at be been before being below between both but by can ' +
    'could did do does ' +
    'doing down during each etc few for from further had has have having he her here hers him his how i if in into ' +
    'is it its itself ' +
    'just let me more most my no nor not now of off on once only or other our ours out over own per same she ' +
    'should so some such than ' +
    'that the their theirs them then there these they this those through to too under until up us very via was we ' +
    'were what when where ' +
    'which while who whom why will with within without would you your yours'
  ).split(' '),
);

/** Distinct meaningful terms of a text, in first-seen order. */
export function keywordsOf(text: string): string[] {
  return keywordsOfTokens(tokenize(text));
}

/** `keywordsOf` over tokens already made by `tokenize`. */
export function keywordsOfTokens(tokens: readonly string[]): string[] {
  const out = new Set<string>();
  for (const token of tokens) {
    if (token.length < 2 || STOP_WORDS.has(token) || !/[a-z]/.test(token)) continue;
    out.add(token);
  }
  return [...out];
}

export const postingTextFeatures: DriftFeatures<JobPosting> = {
  numeric: { description_length: (p) => p.description.length },
  categorical: { seniority: (p) => p.seniority ?? 'unknown' },
  keywords: (p) => keywordsOfTokens(postingTokens(p)),
};

/** A posting with the model's output for it: what the pipeline monitors, and what the reference profile holds. */
export interface ScoredPosting extends PostingText {
  label: number;
  confidence: number;
  /** Its drift keywords when already taken (on a map thread, prepare-posting.ts). */
  keywords?: string[];
}

export const postingModelFeatures: DriftFeatures<ScoredPosting> = {
  numeric: { description_length: (p) => p.description.length, confidence: (p) => p.confidence },
  categorical: { predicted_class: (p) => String(p.label) },
  keywords: (p) => p.keywords ?? keywordsOfTokens(postingTokens(p)),
};
