/**
 * `drift-window`: compares each window of a stream with a reference profile (the model's training data) and reports,
 * per window, a test per feature (KS or normalized Wasserstein + PSI for numeric features, chi-square or
 * Jensen–Shannon for categorical ones), the emerging and vanishing keywords, and dataset-level drift (≥ 50 % of the
 * features drifted). Per-event detectors (ADWIN, Page-Hinkley) on chosen scalars report change points at once, for
 * streams too sparse for windows. The reference is a stored profile or, with `warmUpReference`, each key's own first
 * records. See README.md for the choices and thresholds.
 */
import { retainAll } from '../../streams/ack.ts';
import type { StreamRecord } from '../../streams/record.ts';
import type { Batch, Stage, StageOutput } from '../../streams/stage.ts';
import { windowStage } from '../window/window.ts';
import type { WindowResult, WindowSpec } from '../window/window-spec.ts';
import { Adwin } from './detectors/adwin.ts';
import { PageHinkley } from './detectors/page-hinkley.ts';
import { type DriftFeatures, KEYWORDS_FEATURE } from './drift-features.ts';
import type { DriftAlert, DriftReport } from './drift-report.ts';
import { DEFAULT_THRESHOLDS, type DriftThresholds } from './drift-thresholds.ts';
import { type DriftMetric, categoricalTest, datasetTest, numericTests, skipped } from './feature-tests.ts';
import { type KeywordSkewOptions, keywordSkew } from './keyword-skew.ts';
import { buildReferenceProfile, type ReferenceProfile } from './reference-profile.ts';

export const RECOMMENDED_MIN_WINDOW = 500;

export interface DetectorSpec<T> {
  value: (value: T) => number | null;
  method: 'adwin' | 'page_hinkley';
  /** ADWIN confidence δ (default 0.002) — ignored by Page-Hinkley. */
  delta?: number;
  /** Page-Hinkley options (river's defaults otherwise). */
  pageHinkley?: ConstructorParameters<typeof PageHinkley>[0];
}

export interface DriftWindowOptions<T> {
  pipeline: string;
  /** The fixed reference (e.g. the model's training data). Give this or `warmUpReference`. */
  reference?: ReferenceProfile;
  /**
   * Reference from the stream itself, for series with no training data (NAB's probationary period): per window key
   * (per record key with `perKey`, else one for the stream), the first `records` records build that key's profile
   * with `buildReferenceProfile` and are not windowed, so windows are only tested once their key's reference is
   * complete. Detectors see every record. The profile lives in memory: a restarted consumer builds a new one.
   */
  warmUpReference?: { records: number };
  features: DriftFeatures<T>;
  window: WindowSpec;
  allowedLatenessMs?: number;
  idleTimeoutMs?: number;
  /** Windows with fewer records are not tested (reported as skipped). Default 500; smaller is allowed, with a warning. */
  minWindowSize?: number;
  /** One window set per record key (e.g. per series) instead of one for the whole stream. Default false. */
  perKey?: boolean;
  thresholds?: Partial<DriftThresholds>;
  keywordSkew?: KeywordSkewOptions;
  /** Per-event change detectors, by feature name; state is kept per record key. */
  detectors?: Record<string, DetectorSpec<T>>;
  /** Where the small-window warning goes. Default console.warn. */
  warn?: (message: string) => void;
}

interface WindowAccumulator {
  numeric: Map<string, number[]>;
  categorical: Map<string, Map<string, number>>;
  termDocuments: Map<string, number>;
  documents: number;
}

export function driftWindow<T>(name: string, options: DriftWindowOptions<T>): Stage<T, DriftReport> {
  const thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  const minWindow = options.minWindowSize ?? RECOMMENDED_MIN_WINDOW;
  if (minWindow < RECOMMENDED_MIN_WINDOW) {
    (options.warn ?? console.warn)(`drift-window ${name}: minimum window size ${minWindow} < ${RECOMMENDED_MIN_WINDOW}; tests on small windows have little power and PSI/JS are noisy`);
  }
  const { features, reference, warmUpReference } = options;
  if ((reference === undefined) === (warmUpReference === undefined)) throw new Error(`drift-window ${name}: give either a reference profile or warmUpReference`);
  if (warmUpReference && !(Number.isInteger(warmUpReference.records) && warmUpReference.records > 0)) throw new Error(`drift-window ${name}: warmUpReference.records must be a positive integer`);
  const [modelId = '', modelVersion = ''] = (reference?.model ?? '').split('@');
  // Warm-up: the records collected so far per window key, replaced by the profile once there are enough.
  const warmUp = new Map<string | null, T[] | ReferenceProfile>();
  const referenceFor = (key: string | null): ReferenceProfile | undefined => {
    if (reference) return reference;
    const found = warmUp.get(key);
    return Array.isArray(found) ? undefined : found;
  };
  /** False while the record goes into its key's warm-up reference. */
  const pastWarmUp = (key: string | null, value: T): boolean => {
    if (!warmUpReference) return true;
    let found = warmUp.get(key);
    if (found && !Array.isArray(found)) return true;
    if (!found) warmUp.set(key, (found = []));
    found.push(value);
    if (found.length >= warmUpReference.records) {
      warmUp.set(key, buildReferenceProfile(found, features, { createdFrom: `warm-up: first ${found.length} records${key === null ? '' : ` of ${key}`}` }));
    }
    return false;
  };
  const numericFeatures = Object.entries(features.numeric ?? {});
  const categoricalFeatures = Object.entries(features.categorical ?? {});

  const windows = windowStage<T, WindowAccumulator>(`${name}:windows`, {
    spec: options.window,
    scope: 'stream',
    allowedLatenessMs: options.allowedLatenessMs,
    idleTimeoutMs: options.idleTimeoutMs,
    init: () => ({ numeric: new Map(numericFeatures.map(([n]) => [n, []])), categorical: new Map(), termDocuments: new Map(), documents: 0 }),
    add(acc, value) {
      for (const [n, fn] of numericFeatures) {
        const x = fn(value);
        if (x !== null && Number.isFinite(x)) acc.numeric.get(n)!.push(x);
      }
      for (const [n, fn] of categoricalFeatures) {
        const c = fn(value);
        if (c !== null) increment(acc.categorical, n, c);
      }
      if (features.keywords) {
        acc.documents++;
        const seen = new Set<string>();
        for (const term of features.keywords(value)) {
          increment(acc.categorical, KEYWORDS_FEATURE, term);
          seen.add(term);
        }
        for (const term of seen) acc.termDocuments.set(term, (acc.termDocuments.get(term) ?? 0) + 1);
      }
      return acc;
    },
  });

  const report = (w: WindowResult<WindowAccumulator>): DriftReport => {
    // With a warm-up reference, a window only holds records that came after its key's reference was complete.
    const reference = referenceFor(w.key)!;
    const base = { kind: 'window' as const, pipeline: options.pipeline, modelId, modelVersion, key: w.key, windowStart: w.start, windowEnd: w.end, count: w.count, referenceRows: reference.rows };
    if (w.count < minWindow) {
      return { ...base, metrics: [skipped('dataset', 'dataset', `window has ${w.count} records < minimum ${minWindow}`)], keywords: [], alerts: [], datasetDrift: false };
    }
    const metrics: DriftMetric[] = [];
    for (const [n] of numericFeatures) {
      const ref = reference.numeric[n];
      metrics.push(...(ref ? numericTests(n, ref, Float64Array.from(w.value.numeric.get(n)!), thresholds) : [skipped(n, 'numeric', 'not in the reference profile')]));
    }
    const categoricalNames = categoricalFeatures.map(([n]) => n);
    if (features.keywords) categoricalNames.push(KEYWORDS_FEATURE);
    for (const n of categoricalNames) {
      const ref = reference.categorical[n];
      metrics.push(ref ? categoricalTest(n, ref, w.value.categorical.get(n) ?? new Map(), thresholds) : skipped(n, 'categorical', 'not in the reference profile'));
    }
    const dataset = datasetTest(metrics, thresholds);
    metrics.push(dataset);
    const keywords = features.keywords && reference.keywords ? keywordSkew(reference.keywords, w.value.termDocuments, w.value.documents, options.keywordSkew) : [];
    const alerts: DriftAlert[] = [];
    if (dataset.drifted) {
      const drifted = (dataset.details.drifted_features as string[]).join(', ');
      alerts.push({ feature: 'dataset', kind: 'dataset_drift', severity: 'major', message: `dataset drift: ${drifted} (${(dataset.statistic * 100).toFixed(0)} % of ${dataset.details.features} features)`, eventTime: w.end - 1 });
    }
    return { ...base, metrics, keywords, alerts, datasetDrift: dataset.drifted };
  };

  // Per-event detectors, per record key, across windows.
  const detectorSpecs = Object.entries(options.detectors ?? {});
  const detectors = new Map<string, { update(x: number): boolean }>();
  const detectorFor = (feature: string, spec: DetectorSpec<T>, key: string | null): { update(x: number): boolean } => {
    const id = `${feature}\u0000${key}`;
    const found = detectors.get(id);
    if (found) return found;
    const created = spec.method === 'adwin' ? new Adwin({ delta: spec.delta ?? 0.002 }) : new PageHinkley(spec.pageHinkley);
    detectors.set(id, created);
    return created;
  };
  const changePoint = (feature: string, spec: DetectorSpec<T>, record: StreamRecord<T>, x: number): DriftReport => ({
    kind: 'change_point',
    pipeline: options.pipeline,
    modelId,
    modelVersion,
    key: record.key,
    windowStart: record.eventTime,
    windowEnd: record.eventTime,
    count: 1,
    referenceRows: referenceFor(options.perKey ? record.key : null)?.rows ?? 0,
    metrics: [{ feature, kind: 'detector', test: spec.method, statistic: x, pValue: null, threshold: spec.method === 'adwin' ? (spec.delta ?? 0.002) : (spec.pageHinkley?.threshold ?? 50), drifted: true, primary: false, details: { key: record.key } }],
    keywords: [],
    alerts: [{ feature, kind: 'change_point', severity: 'minor', message: `${spec.method} change in ${feature}${record.key === null ? '' : ` (${record.key})`} at value ${x}`, eventTime: record.eventTime }],
    datasetDrift: false,
  });

  const mapOutput = (out: StageOutput<DriftReport>): StageOutput<WindowResult<WindowAccumulator>> => ({
    emit: (batch, port) => out.emit({ records: batch.records.map((r) => ({ ...r, value: report(r.value) })), tokens: batch.tokens }, port),
    emitSide: (port, batch) => out.emitSide(port, batch),
    deadLetter: (record, error) => out.deadLetter(record, error),
  });

  return {
    name,
    onBatch(batch: Batch<T>, out) {
      if (detectorSpecs.length > 0) {
        const points: StreamRecord<DriftReport>[] = [];
        for (const record of batch.records) {
          for (const [feature, spec] of detectorSpecs) {
            const x = spec.value(record.value);
            if (x === null || !Number.isFinite(x)) continue;
            if (detectorFor(feature, spec, record.key).update(x)) points.push({ ...record, value: changePoint(feature, spec, record, x) });
          }
        }
        if (points.length > 0) {
          retainAll(batch.tokens);
          out.emit({ records: points, tokens: batch.tokens.slice() });
        }
      }
      const keyed = options.perKey ? batch.records : batch.records.map((r) => (r.key === null ? r : { ...r, key: null }));
      const records = warmUpReference ? keyed.filter((r) => pastWarmUp(r.key, r.value)) : keyed;
      return windows.onBatch({ records, tokens: batch.tokens }, mapOutput(out));
    },
    onTick: (now, out) => windows.onTick!(now, mapOutput(out)),
    onEnd: (out) => windows.onEnd!(mapOutput(out)),
    onRevoke: (partitions) => windows.onRevoke!(partitions),
  };
}

function increment(maps: Map<string, Map<string, number>>, feature: string, category: string): void {
  let m = maps.get(feature);
  if (!m) maps.set(feature, (m = new Map()));
  m.set(category, (m.get(category) ?? 0) + 1);
}
