/**
 * `drift-window`: compares each window of a stream with a reference profile (the model's training data) and reports,
 * per window, a test per feature (KS or normalized Wasserstein + PSI for numeric features, chi-square or
 * Jensen–Shannon for categorical ones), the emerging and vanishing keywords, and dataset-level drift (≥ 50 % of the
 * features drifted). Per-event detectors (ADWIN, Page-Hinkley) on chosen scalars report change points at once, for
 * streams too sparse for windows. The reference is a stored profile or, with `warmUpReference`, each key's own first
 * records. See README.md for the choices and thresholds.
 */
import type { StreamRecord } from '../../streams/kernel/record.ts';
import type { Stage } from '../../streams/kernel/stage.ts';
import { type StatefulContext, statefulStage } from '../../streams/kernel/stateful.ts';
import { type Window, Windower, windowerLogic, windowRecord } from '../../streams/kernel/windower.ts';
import type { WindowSpec } from '../../streams/kernel/operators/window/window-spec.ts';
import type { DriftFeatures } from './drift-features.ts';
import type { DriftReport } from './drift-report.ts';
import { DEFAULT_THRESHOLDS, type DriftThresholds } from './drift-thresholds.ts';
import { type DriftAccumulator, driftAccumulator } from './drift-window-accumulator.ts';
import { ChangeDetectors, type DetectorSpec } from './drift-window-detectors.ts';
import { changePointReport, type ReportContext, windowReport } from './drift-window-report.ts';
import type { KeywordSkewOptions } from './keyword-skew.ts';
import { buildReferenceProfile, type ReferenceProfile } from './reference-profile.ts';

export type { DetectorSpec };

export const RECOMMENDED_MIN_WINDOW = 500;

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
  /** With `perKey`: 'key' gives each key its own event-time clock (streams/window-spec.ts). Default 'partition'. */
  eventTime?: 'partition' | 'key';
  /** With `eventTime: 'key'`: how far a key's windows may trail the stream's clock. Default Infinity. */
  maxKeyLagMs?: number;
  /**
   * Windows with fewer records are not tested (reported as skipped). Default 500; smaller is allowed, with a warning.
   */
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

/** References from the stream itself: per window key, its first records, replaced by their profile once complete. */
class WarmUpReferences<T> {
  private readonly byKey = new Map<string | null, T[] | ReferenceProfile>();
  constructor(
    private readonly records: number,
    private readonly features: DriftFeatures<T>,
  ) {}

  get(key: string | null): ReferenceProfile | undefined {
    const found = this.byKey.get(key);
    return Array.isArray(found) ? undefined : found;
  }

  /** False while the value goes into its key's reference. */
  pastWarmUp(key: string | null, value: T): boolean {
    let found = this.byKey.get(key);
    if (found && !Array.isArray(found)) return true;
    if (!found) {
      found = [];
      this.byKey.set(key, found);
    }
    found.push(value);
    if (found.length >= this.records) {
      this.byKey.set(
        key,
        buildReferenceProfile(found, this.features, {
          createdFrom: `warm-up: first ${found.length} records${key === null ? '' : ` of ${key}`}`,
        }),
      );
    }
    return false;
  }
}

function checkOptions<T>(name: string, options: DriftWindowOptions<T>, minWindow: number): void {
  if (minWindow < RECOMMENDED_MIN_WINDOW) {
    (options.warn ?? console.warn)(
      `drift-window ${name}: minimum window size ${minWindow} < ${RECOMMENDED_MIN_WINDOW}; tests on small windows ` +
        `have little power and PSI/JS are noisy`,
    );
  }
  const { reference, warmUpReference } = options;
  if ((reference === undefined) === (warmUpReference === undefined))
    throw new Error(`drift-window ${name}: give either a reference profile or warmUpReference`);
  if (warmUpReference && !(Number.isInteger(warmUpReference.records) && warmUpReference.records > 0))
    throw new Error(`drift-window ${name}: warmUpReference.records must be a positive integer`);
}

/**
 * Windows over the whole stream (one report per window, or per key with `perKey`) and per-event detectors; change
 * points go out with the batch that caused them, window reports when their window closes (see README.md).
 */
export function driftWindow<T>(name: string, options: DriftWindowOptions<T>): Stage<T, DriftReport> {
  const minWindow = options.minWindowSize ?? RECOMMENDED_MIN_WINDOW;
  checkOptions(name, options, minWindow);
  const { features, reference, warmUpReference } = options;
  const [modelId = '', modelVersion = ''] = (reference?.model ?? '').split('@');
  const context: ReportContext<T> = {
    pipeline: options.pipeline,
    modelId,
    modelVersion,
    features,
    thresholds: { ...DEFAULT_THRESHOLDS, ...options.thresholds },
    minWindow,
    keywordSkew: options.keywordSkew,
  };
  const warmUp = warmUpReference ? new WarmUpReferences(warmUpReference.records, features) : undefined;
  const referenceFor = (key: string | null) => reference ?? warmUp!.get(key);
  const detectors = new ChangeDetectors(options.detectors);
  const windower = new Windower<T, DriftAccumulator>({
    spec: options.window,
    scope: 'stream',
    allowedLatenessMs: options.allowedLatenessMs,
    idleTimeoutMs: options.idleTimeoutMs,
    eventTime: options.eventTime,
    maxKeyLagMs: options.maxKeyLagMs,
    ...driftAccumulator(features),
  });
  const countBased = options.window.type === 'count';

  const emitClosed = (closed: Window<DriftAccumulator>[], ctx: StatefulContext<DriftReport>) => {
    if (closed.length === 0) return;
    // With a warm-up reference, a window only holds records that came after its key's reference was complete.
    const records = closed.map((w) => {
      const record = windowRecord(w, countBased, w.acc);
      return { ...record, value: windowReport(record.value, referenceFor(w.key)!, context) };
    });
    ctx.emit(records, { closes: closed });
  };

  const emitChangePoints = (records: StreamRecord<T>[], ctx: StatefulContext<DriftReport>) => {
    if (detectors.empty) return;
    const points = detectors.update(records).map(({ feature, detector, record, x }) => {
      const referenceRows = referenceFor(options.perKey ? record.key : null)?.rows ?? 0;
      return { ...record, value: changePointReport(feature, detector, record, x, referenceRows, context) };
    });
    if (points.length > 0) ctx.emit(points, { withBatch: true });
  };

  // Drift over the stream unless per key: one window for all keys.
  const prepare = (records: StreamRecord<T>[], ctx: StatefulContext<DriftReport>) => {
    emitChangePoints(records, ctx);
    const keyed = options.perKey ? records : records.map((r) => (r.key === null ? r : { ...r, key: null }));
    return warmUp ? keyed.filter((r) => warmUp.pastWarmUp(r.key, r.value)) : keyed;
  };
  return statefulStage<T, DriftReport>(name, windowerLogic(windower, emitClosed, prepare));
}
