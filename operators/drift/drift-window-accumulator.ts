import { type DriftFeatures, KEYWORDS_FEATURE } from './drift-features.ts';

/** What a drift window collects of its records: the samples and counts its tests need. */
export interface DriftAccumulator {
  numeric: Map<string, number[]>;
  categorical: Map<string, Map<string, number>>;
  termDocuments: Map<string, number>;
  documents: number;
}

/** The window's `init` and `add` for these features. */
export function driftAccumulator<T>(features: DriftFeatures<T>) {
  const numericFeatures = Object.entries(features.numeric ?? {});
  const categoricalFeatures = Object.entries(features.categorical ?? {});
  return {
    init: (): DriftAccumulator => ({
      numeric: new Map(numericFeatures.map(([n]) => [n, []])),
      categorical: new Map(),
      termDocuments: new Map(),
      documents: 0,
    }),
    add(acc: DriftAccumulator, value: T): DriftAccumulator {
      for (const [n, fn] of numericFeatures) {
        const x = fn(value);
        if (x !== null && Number.isFinite(x)) acc.numeric.get(n)!.push(x);
      }
      for (const [n, fn] of categoricalFeatures) {
        const c = fn(value);
        if (c !== null) increment(acc.categorical, n, c);
      }
      if (features.keywords) addKeywords(acc, features.keywords(value));
      return acc;
    },
  };
}

function addKeywords(acc: DriftAccumulator, terms: Iterable<string>): void {
  acc.documents++;
  // Looked up once per document, not per term (created on the first term, as before: no empty map).
  let mentions: Map<string, number> | undefined;
  const seen = new Set<string>();
  for (const term of terms) {
    mentions ??= categoryCounts(acc.categorical, KEYWORDS_FEATURE);
    mentions.set(term, (mentions.get(term) ?? 0) + 1);
    if (seen.has(term)) continue;
    seen.add(term);
    acc.termDocuments.set(term, (acc.termDocuments.get(term) ?? 0) + 1);
  }
}

function increment(maps: Map<string, Map<string, number>>, feature: string, category: string): void {
  const m = categoryCounts(maps, feature);
  m.set(category, (m.get(category) ?? 0) + 1);
}

function categoryCounts(maps: Map<string, Map<string, number>>, feature: string): Map<string, number> {
  let m = maps.get(feature);
  if (!m) {
    m = new Map();
    maps.set(feature, m);
  }
  return m;
}
