import type { DriftMetric } from './feature-tests.ts';
import type { KeywordShift } from './keyword-skew.ts';

export interface DriftAlert {
  feature: string;
  kind: 'dataset_drift' | 'change_point';
  severity: 'minor' | 'major';
  message: string;
  /** Event time it refers to: a window's last instant, or the event that triggered a change detector. */
  eventTime: number;
}

/**
 * What drift-window emits: one `window` report when a window closes (its tests, keyword shifts and alerts), and one
 * `change_point` report as soon as a per-event detector fires (window bounds = that event's time).
 */
export interface DriftReport {
  kind: 'window' | 'change_point';
  pipeline: string;
  /** The reference's model, `id@version` split; empty when the profile was not built for a model. */
  modelId: string;
  modelVersion: string;
  /** Record key the window or detector belongs to (per-key monitoring), else null. */
  key: string | null;
  windowStart: number;
  windowEnd: number;
  count: number;
  referenceRows: number;
  metrics: DriftMetric[];
  keywords: KeywordShift[];
  alerts: DriftAlert[];
  datasetDrift: boolean;
}
