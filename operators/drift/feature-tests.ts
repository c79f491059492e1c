/**
 * One window against the reference, feature by feature: each feature gets its primary test (which decides whether
 * the feature drifted and counts towards dataset-level drift) and, for numeric features, PSI as a second opinion.
 */
import { OTHER } from './drift-features.ts';
import type { DriftThresholds } from './drift-thresholds.ts';
import type { CategoricalReference, NumericReference } from './reference-profile.ts';
import { chiSquareFromCounts } from './stats/chi-square.ts';
import { jensenShannonDistance } from './stats/jensen-shannon.ts';
import { ksTwoSample } from './stats/ks.ts';
import { binCounts, psi } from './stats/psi.ts';
import { normalizedWasserstein } from './stats/wasserstein.ts';

export type DriftTest =
  | 'ks'
  | 'wasserstein'
  | 'psi'
  | 'chi_square'
  | 'jensen_shannon'
  | 'share'
  | 'adwin'
  | 'page_hinkley'
  | 'skipped';

export interface DriftMetric {
  feature: string;
  kind: 'numeric' | 'categorical' | 'dataset' | 'detector';
  test: DriftTest;
  statistic: number;
  pValue: number | null;
  threshold: number;
  drifted: boolean;
  /** Counts towards dataset-level drift (one primary test per feature). */
  primary: boolean;
  details: Record<string, unknown>;
}

export function numericTests(
  feature: string,
  reference: NumericReference,
  window: Float64Array,
  t: DriftThresholds,
): DriftMetric[] {
  if (window.length === 0 || reference.values.length === 0) {
    return [
      skipped(feature, 'numeric', window.length === 0 ? 'no values in the window' : 'no values in the reference'),
    ];
  }
  const metrics: DriftMetric[] = [];
  if (reference.count <= t.smallReferenceMaxRows) {
    const ks = ksTwoSample(reference.values, window);
    metrics.push({
      feature,
      kind: 'numeric',
      test: 'ks',
      statistic: ks.statistic,
      pValue: ks.pValue,
      threshold: t.ksAlpha,
      drifted: ks.pValue < t.ksAlpha,
      primary: true,
      details: { method: ks.method, n: window.length },
    });
  } else {
    const d = normalizedWasserstein(reference.values, window);
    metrics.push({
      feature,
      kind: 'numeric',
      test: 'wasserstein',
      statistic: d,
      pValue: null,
      threshold: t.wasserstein,
      drifted: d >= t.wasserstein,
      primary: true,
      details: { n: window.length },
    });
  }
  const current = binCounts(window, reference.psiEdges);
  const value = psi(reference.psiCounts, current);
  const severity = value >= t.psiMajor ? 'major' : value >= t.psiMinor ? 'minor' : 'none';
  metrics.push({
    feature,
    kind: 'numeric',
    test: 'psi',
    statistic: value,
    pValue: null,
    threshold: t.psiMinor,
    drifted: value >= t.psiMinor,
    primary: false,
    details: { severity, reference_counts: reference.psiCounts, window_counts: current },
  });
  return metrics;
}

export function categoricalTest(
  feature: string,
  reference: CategoricalReference,
  window: Map<string, number>,
  t: DriftThresholds,
): DriftMetric {
  const categories = Object.keys(reference.counts);
  const known = new Set(categories);
  const current = categories.map(() => 0);
  const otherIndex = categories.indexOf(OTHER);
  let total = 0;
  for (const [category, n] of window) {
    total += n;
    const i = known.has(category) ? categories.indexOf(category) : otherIndex;
    current[i]! += n;
  }
  if (total === 0 || reference.count === 0)
    return skipped(feature, 'categorical', total === 0 ? 'no values in the window' : 'no values in the reference');
  const referenceCounts = categories.map((c) => reference.counts[c]!);
  const details = { categories, reference_counts: referenceCounts, window_counts: current };
  if (reference.count <= t.smallReferenceMaxRows) {
    const chi = chiSquareFromCounts(referenceCounts, current);
    return {
      feature,
      kind: 'categorical',
      test: 'chi_square',
      statistic: chi.statistic,
      pValue: chi.pValue,
      threshold: t.chiSquareAlpha,
      drifted: chi.pValue < t.chiSquareAlpha,
      primary: true,
      details: { ...details, dof: chi.dof },
    };
  }
  const d = jensenShannonDistance(referenceCounts, current, 2);
  return {
    feature,
    kind: 'categorical',
    test: 'jensen_shannon',
    statistic: d,
    pValue: null,
    threshold: t.jensenShannon,
    drifted: d >= t.jensenShannon,
    primary: true,
    details,
  };
}

/** Dataset-level verdict: the share of features whose primary test drifted. */
export function datasetTest(metrics: DriftMetric[], t: DriftThresholds): DriftMetric {
  const primary = metrics.filter((m) => m.primary);
  const drifted = primary.filter((m) => m.drifted).map((m) => m.feature);
  const share = primary.length === 0 ? 0 : drifted.length / primary.length;
  return {
    feature: 'dataset',
    kind: 'dataset',
    test: 'share',
    statistic: share,
    pValue: null,
    threshold: t.datasetShare,
    drifted: primary.length > 0 && share >= t.datasetShare,
    primary: false,
    details: { features: primary.length, drifted_features: drifted },
  };
}

export function skipped(feature: string, kind: DriftMetric['kind'], reason: string): DriftMetric {
  return {
    feature,
    kind,
    test: 'skipped',
    statistic: 0,
    pValue: null,
    threshold: 0,
    drifted: false,
    primary: false,
    details: { reason },
  };
}
