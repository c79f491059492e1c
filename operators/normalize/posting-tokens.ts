import { tokenize } from './text.ts';

/**
 * The tokens of a posting's `${title}\n${description}`, computed once by normalize and shared with the drift
 * keywords (and anything else that needs the posting's words), so the text is scanned by the tokenizer once.
 * Kept beside the posting rather than in it: the posting is the warehouse row, and its columns stay as they are.
 */
const tokensByPosting = new WeakMap<object, readonly string[]>();

/** Remembers `tokens` as the tokens of `posting` (which must be `tokenize(`${title}\n${description}`)`). */
export function rememberTokens<P extends object>(posting: P, tokens: readonly string[]): P {
  tokensByPosting.set(posting, tokens);
  return posting;
}

/** The posting's tokens: the ones normalize remembered, else tokenized now (e.g. a posting from another thread). */
export function postingTokens(posting: { title: string; description: string }): readonly string[] {
  return tokensByPosting.get(posting) ?? tokenize(`${posting.title}\n${posting.description}`);
}
