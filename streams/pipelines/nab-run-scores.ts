/**
 * NAB scores of what a run stored: each series' per-record anomaly scores (`event_anomaly_scores`), its alerts, and
 * the two baselines recomputed from the same stored values (Windowed Gaussian; an alert at every window close),
 * scored together by NAB's method over the series that have labelled windows. For the Events report page.
 */
import { windowedGaussianScores } from '../../operators/anomaly/windowed-gaussian.ts';
import { PROFILES, type ProfileName } from './nab-corpus.ts';
import type { LabelledWindow } from './nab-scoring.ts';
import { type CostMatrix, windowIndices } from './nab-sweep.ts';
import { type ScoredFile, scoreCorpus } from './nab-threshold.ts';

/** One stored series, in record order. */
export interface StoredSeries {
  key: string;
  timestamps: number[];
  values: number[];
  scores: number[];
  alerts: number[];
}

export interface RunScoreRow {
  detector: string;
  profile: ProfileName;
  /** Normalised NAB score; null without a labelled window among the series. */
  score: number | null;
  threshold: number;
  series: number;
}

/** Every detector × profile; series without labels are left out (NAB scores only labelled files). */
export function nabRunScores(
  stored: readonly StoredSeries[],
  labels: ReadonlyMap<string, LabelledWindow[]>,
  profiles: Record<ProfileName, CostMatrix>,
  windowClose = 288,
): RunScoreRow[] {
  const labelled = stored.filter((s) => labels.has(s.key));
  if (labelled.length === 0) return [];
  const as = (scores: (s: StoredSeries) => ArrayLike<number>): ScoredFile[] =>
    labelled.map((s) => ({ path: s.key, scores: scores(s), windows: windowIndices(s.timestamps, labels.get(s.key)!) }));
  const detectors: [string, ScoredFile[]][] = [
    ['driftline anomaly score', as((s) => s.scores)],
    ['driftline alerts', as((s) => s.alerts)],
    ['Windowed Gaussian', as((s) => windowedGaussianScores(s.values))],
    [
      `alert at every window close (${windowClose} records)`,
      as((s) => s.values.map((_, i) => Number((i + 1) % windowClose === 0))),
    ],
  ];
  return detectors.flatMap(([detector, files]) =>
    PROFILES.map((profile) => {
      const s = scoreCorpus(files, profiles[profile]);
      return { detector, profile, score: s.normalised, threshold: s.threshold, series: files.length };
    }),
  );
}
