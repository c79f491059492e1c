/**
 * Test choice and thresholds, following Evidently's defaults: statistical tests (KS, chi-square) while the reference
 * is small, distances (normalized Wasserstein, Jensen–Shannon) above that — with many rows every p-value goes to
 * zero for differences nobody cares about, while a distance keeps its meaning.
 */
export interface DriftThresholds {
  /** References with at most this many rows use KS / chi-square; larger ones Wasserstein / Jensen–Shannon. */
  smallReferenceMaxRows: number;
  ksAlpha: number;
  chiSquareAlpha: number;
  /** Normalized Wasserstein distance (in reference standard deviations). */
  wasserstein: number;
  /** Jensen–Shannon distance, base 2 (0 = same, 1 = disjoint). */
  jensenShannon: number;
  psiMinor: number;
  psiMajor: number;
  /** Dataset-level drift when at least this share of monitored features drift. */
  datasetShare: number;
}

export const DEFAULT_THRESHOLDS: DriftThresholds = {
  smallReferenceMaxRows: 1000,
  ksAlpha: 0.05,
  chiSquareAlpha: 0.05,
  wasserstein: 0.1,
  jensenShannon: 0.1,
  psiMinor: 0.1,
  psiMajor: 0.25,
  datasetShare: 0.5,
};
