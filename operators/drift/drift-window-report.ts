import type { StreamRecord } from '../../streams/kernel/record.ts';
import type { WindowResult } from '../../streams/kernel/operators/window/window-spec.ts';
import { type DriftFeatures, KEYWORDS_FEATURE } from './drift-features.ts';
import type { DriftAlert, DriftReport } from './drift-report.ts';
import type { DriftThresholds } from './drift-thresholds.ts';
import type { DriftAccumulator } from './drift-window-accumulator.ts';
import { type DriftMetric, categoricalTest, datasetTest, numericTests, skipped } from './feature-tests.ts';
import { type KeywordSkewOptions, keywordSkew } from './keyword-skew.ts';
import type { ReferenceProfile } from './reference-profile.ts';

/** What every report of one drift-window stage shares. */
export interface ReportContext<T> {
  pipeline: string;
  modelId: string;
  modelVersion: string;
  features: DriftFeatures<T>;
  thresholds: DriftThresholds;
  minWindow: number;
  keywordSkew?: KeywordSkewOptions;
}

/** The report of a closed window against `reference`: its tests, keyword shifts and dataset-drift alert. */
export function windowReport<T>(
  w: WindowResult<DriftAccumulator>,
  reference: ReferenceProfile,
  c: ReportContext<T>,
): DriftReport {
  const base = {
    kind: 'window' as const,
    pipeline: c.pipeline,
    modelId: c.modelId,
    modelVersion: c.modelVersion,
    key: w.key,
    windowStart: w.start,
    windowEnd: w.end,
    count: w.count,
    referenceRows: reference.rows,
  };
  if (w.count < c.minWindow) {
    return {
      ...base,
      metrics: [skipped('dataset', 'dataset', `window has ${w.count} records < minimum ${c.minWindow}`)],
      keywords: [],
      alerts: [],
      datasetDrift: false,
    };
  }
  const metrics = featureMetrics(w.value, reference, c);
  const dataset = datasetTest(metrics, c.thresholds);
  metrics.push(dataset);
  const keywords =
    c.features.keywords && reference.keywords
      ? keywordSkew(reference.keywords, w.value.termDocuments, w.value.documents, c.keywordSkew)
      : [];
  const alerts: DriftAlert[] = [];
  if (dataset.drifted) {
    const drifted = (dataset.details.drifted_features as string[]).join(', ');
    alerts.push({
      feature: 'dataset',
      kind: 'dataset_drift',
      severity: 'major',
      message:
        `dataset drift: ${drifted} (${(dataset.statistic * 100).toFixed(0)} % ` +
        `of ${dataset.details.features} features)`,
      eventTime: w.end - 1,
    });
  }
  return { ...base, metrics, keywords, alerts, datasetDrift: dataset.drifted };
}

/** One test per numeric feature (KS or Wasserstein, PSI) and per categorical one (keywords included). */
function featureMetrics<T>(acc: DriftAccumulator, reference: ReferenceProfile, c: ReportContext<T>): DriftMetric[] {
  const metrics: DriftMetric[] = [];
  for (const n of Object.keys(c.features.numeric ?? {})) {
    const ref = reference.numeric[n];
    metrics.push(
      ...(ref
        ? numericTests(n, ref, Float64Array.from(acc.numeric.get(n)!), c.thresholds)
        : [skipped(n, 'numeric', 'not in the reference profile')]),
    );
  }
  const categoricalNames = Object.keys(c.features.categorical ?? {});
  if (c.features.keywords) categoricalNames.push(KEYWORDS_FEATURE);
  for (const n of categoricalNames) {
    const ref = reference.categorical[n];
    metrics.push(
      ref
        ? categoricalTest(n, ref, acc.categorical.get(n) ?? new Map(), c.thresholds)
        : skipped(n, 'categorical', 'not in the reference profile'),
    );
  }
  return metrics;
}

/** How a per-event detector is described in its change-point report. */
export interface DetectorDescription {
  method: 'adwin' | 'page_hinkley';
  threshold: number;
}

/** A detector fired on `x` at `record`: a one-event report, emitted at once. */
export function changePointReport<T>(
  feature: string,
  detector: DetectorDescription,
  record: StreamRecord<unknown>,
  x: number,
  referenceRows: number,
  c: ReportContext<T>,
): DriftReport {
  const { method } = detector;
  return {
    kind: 'change_point',
    pipeline: c.pipeline,
    modelId: c.modelId,
    modelVersion: c.modelVersion,
    key: record.key,
    windowStart: record.eventTime,
    windowEnd: record.eventTime,
    count: 1,
    referenceRows,
    metrics: [
      {
        feature,
        kind: 'detector',
        test: method,
        statistic: x,
        pValue: null,
        threshold: detector.threshold,
        drifted: true,
        primary: false,
        details: { key: record.key },
      },
    ],
    keywords: [],
    alerts: [
      {
        feature,
        kind: 'change_point',
        severity: 'minor',
        message: `${method} change in ${feature}${record.key === null ? '' : ` (${record.key})`} at value ${x}`,
        eventTime: record.eventTime,
      },
    ],
    datasetDrift: false,
  };
}
