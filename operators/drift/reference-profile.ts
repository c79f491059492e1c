/**
 * A reference profile: what the model's training data looked like, per monitored feature, kept beside the model
 * version (`reference-profile.json` next to `model.onnx`) so every live window is compared with the data the model
 * actually learned from.
 *
 *   numeric      sorted values (all of them up to MAX_NUMERIC_SAMPLE; above that an evenly spaced subsample of the
 *                sorted values, which keeps every quantile) + PSI bin edges (reference deciles) and counts
 *   categorical  counts of the top-K categories (20), the rest summed into "(other)"
 *   keywords     document frequency of the top terms (for skew) and, as the `keywords` categorical feature, how
 *                many documents mention each of the top 100 terms (the rest summed into "(other)")
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type DriftFeatures, KEYWORDS_FEATURE, OTHER } from './drift-features.ts';
import { binCounts, referenceBinEdges } from './stats/psi.ts';

export const MAX_NUMERIC_SAMPLE = 30_000;

export interface NumericReference {
  /** Sorted ascending. */
  values: number[];
  /** Rows that had a value (before any subsampling). */
  count: number;
  psiEdges: number[];
  psiCounts: number[];
}

export interface CategoricalReference {
  /** Category → count, for the top-K categories and OTHER. */
  counts: Record<string, number>;
  count: number;
}

export interface KeywordReference {
  documents: number;
  /** Term → number of reference documents containing it, for the `vocabulary` most frequent terms. */
  documentFrequency: Record<string, number>;
}

export interface ReferenceProfile {
  format: 'driftline-reference-profile-v1';
  /** Which model version this profile describes (`id@version`), when built for one. */
  model: string | null;
  /** Rows in the reference data. */
  rows: number;
  createdFrom: string;
  numeric: Record<string, NumericReference>;
  categorical: Record<string, CategoricalReference>;
  keywords: KeywordReference | null;
}

export interface ProfileOptions {
  /** Categories kept per categorical feature; the rest are OTHER. Default 20. */
  topK?: number;
  /**
   * Terms kept in the `keywords` feature; the rest are OTHER. Default 100: with 20, "(other)" holds most mentions
   * and hides a changed vocabulary (2026 vs 2013–2018 HN postings: JS 0.06 with 20 terms, 0.11 with 100, while
   * 2017–18 against 2013–17 stays at 0.03–0.045).
   */
  keywordTopK?: number;
  /** Terms whose document frequency is kept for keyword skew. Default 20000. */
  vocabulary?: number;
  /** PSI bins. Default 10. */
  psiBins?: number;
  model?: string | null;
  /** Free text: which data this came from (dataset hash, files). */
  createdFrom?: string;
}

/** Profiles a reference dataset (e.g. the model's training rows) through the same feature functions as the stream. */
export function buildReferenceProfile<T>(
  values: Iterable<T>,
  features: DriftFeatures<T>,
  options: ProfileOptions = {},
): ReferenceProfile {
  const topK = options.topK ?? 20;
  const numeric = new Map<string, number[]>(Object.keys(features.numeric ?? {}).map((k) => [k, []]));
  const categorical = new Map<string, Map<string, number>>(
    Object.keys(features.categorical ?? {}).map((k) => [k, new Map()]),
  );
  const mentions = new Map<string, number>();
  const df = new Map<string, number>();
  let rows = 0;
  for (const value of values) {
    rows++;
    for (const [name, fn] of Object.entries(features.numeric ?? {})) {
      const x = fn(value);
      if (x !== null && Number.isFinite(x)) numeric.get(name)!.push(x);
    }
    for (const [name, fn] of Object.entries(features.categorical ?? {})) {
      const c = fn(value);
      if (c !== null) increment(categorical.get(name)!, c);
    }
    if (features.keywords) {
      const seen = new Set<string>();
      for (const term of features.keywords(value)) {
        increment(mentions, term);
        seen.add(term);
      }
      for (const term of seen) increment(df, term);
    }
  }
  const profile: ReferenceProfile = {
    format: 'driftline-reference-profile-v1',
    model: options.model ?? null,
    rows,
    createdFrom: options.createdFrom ?? '',
    numeric: {},
    categorical: {},
    keywords: null,
  };
  for (const [name, xs] of numeric) {
    const sorted = Float64Array.from(xs).sort();
    // A feature with no value in the reference (a constant series has no z-score) has no bins: its windows are
    // reported as skipped ("no values in the reference") instead of failing the whole profile.
    const edges = sorted.length > 0 ? referenceBinEdges(sorted, options.psiBins ?? 10) : [];
    profile.numeric[name] = {
      values: subsampleSorted(sorted, MAX_NUMERIC_SAMPLE),
      count: sorted.length,
      psiEdges: edges,
      psiCounts: binCounts(sorted, edges),
    };
  }
  for (const [name, counts] of categorical) profile.categorical[name] = topKWithOther(counts, topK);
  if (features.keywords) {
    profile.categorical[KEYWORDS_FEATURE] = topKWithOther(mentions, options.keywordTopK ?? 100);
    profile.keywords = {
      documents: rows,
      documentFrequency: Object.fromEntries(topEntries(df, options.vocabulary ?? 20_000)),
    };
  }
  return profile;
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Most frequent first; ties by name so profiles are identical run to run. */
function topEntries(counts: Map<string, number>, k: number): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, k);
}

function topKWithOther(counts: Map<string, number>, k: number): CategoricalReference {
  const top = topEntries(counts, k);
  let total = 0;
  for (const n of counts.values()) total += n;
  const kept = top.reduce((s, [, n]) => s + n, 0);
  const out: Record<string, number> = Object.fromEntries(top);
  out[OTHER] = total - kept;
  return { counts: out, count: total };
}

/** Every quantile survives: value i of the subsample is the sorted value at rank round(i·(n−1)/(m−1)). */
function subsampleSorted(sorted: Float64Array, max: number): number[] {
  if (sorted.length <= max) return Array.from(sorted);
  const out = new Array<number>(max);
  for (let i = 0; i < max; i++) out[i] = sorted[Math.round((i * (sorted.length - 1)) / (max - 1))]!;
  return out;
}

const PROFILE_FILE = 'reference-profile.json';

/** Stores the profile beside a registered model artifact. */
export function saveReferenceProfile(modelFile: string, profile: ReferenceProfile): string {
  mkdirSync(dirname(modelFile), { recursive: true });
  const path = join(dirname(modelFile), PROFILE_FILE);
  writeFileSync(path, JSON.stringify(profile));
  return path;
}

export function loadReferenceProfile(modelFile: string): ReferenceProfile {
  const path = join(dirname(modelFile), PROFILE_FILE);
  if (!existsSync(path))
    throw new Error(
      `no reference profile beside ${modelFile}: build one with buildReferenceProfile and saveReferenceProfile`,
    );
  const profile = JSON.parse(readFileSync(path, 'utf8')) as ReferenceProfile;
  if (profile.format !== 'driftline-reference-profile-v1')
    throw new Error(`${path}: unknown reference profile format ${JSON.stringify(profile.format)}`);
  return profile;
}
