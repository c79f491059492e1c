import { type Calibration, calibrate } from '../../models/calibration/calibration.ts';
import type { Prediction } from '../../schemas/prediction.ts';
import type { SourcePosition } from '../../streams/kernel/record.ts';
import type { ModelComparison } from './compare-models.ts';

/** A model's estimate in a window, as sums over its predictions there. */
export interface EstimateSums {
  calibrated: number;
  reference: number;
  estimated: number;
  /** Predictions that could not be estimated (no calibration for their version, no usable confidence). */
  missing: number;
  methods: Set<string>;
}

/** One prediction's part of an estimate; null when it cannot be estimated. */
export type PredictionEstimate = { calibrated: number; reference: number; method: string } | null;

/**
 * One window's counts. The object is also the state id the batches of its predictions are held under while it is open.
 */
export interface ComparisonWindow {
  start: number;
  end: number;
  closed: boolean;
  version: number;
  versionsA: Set<string>;
  versionsB: Set<string>;
  records: number;
  agreed: number;
  labeled: number;
  correctA: number;
  correctB: number;
  estimateA: EstimateSums;
  estimateB: EstimateSums;
  position: SourcePosition;
}

const noEstimate = (): EstimateSums => ({ calibrated: 0, reference: 0, estimated: 0, missing: 0, methods: new Set() });

export function newComparisonWindow(
  start: number,
  end: number,
  closed: boolean,
  position: SourcePosition,
): ComparisonWindow {
  return {
    start,
    end,
    closed,
    version: 0,
    versionsA: new Set(),
    versionsB: new Set(),
    records: 0,
    agreed: 0,
    labeled: 0,
    correctA: 0,
    correctB: 0,
    estimateA: noEstimate(),
    estimateB: noEstimate(),
    position,
  };
}

export function addEstimate(sums: EstimateSums, e: PredictionEstimate): void {
  if (e === null) {
    sums.missing++;
    return;
  }
  sums.calibrated += e.calibrated;
  sums.reference += e.reference;
  sums.estimated++;
  sums.methods.add(e.method);
}

/** Each version's calibration, looked up once it exists (a version without one is asked again next time). */
export class Calibrations {
  private readonly found = new Map<string, Calibration>();
  constructor(private readonly calibrationFor: (modelId: string, version: string) => Calibration | undefined) {}

  estimateOf(p: Prediction): PredictionEstimate {
    const key = `${p.model_id}@${p.model_version}`;
    let cal = this.found.get(key);
    if (!cal) {
      cal = this.calibrationFor(p.model_id, p.model_version);
      if (!cal) return null;
      this.found.set(key, cal);
    }
    if (!(p.confidence >= 0 && p.confidence <= 1 + 1e-6)) return null;
    return { calibrated: calibrate(cal, p.confidence), reference: cal.reference_accuracy, method: cal.method };
  }
}

function summarize(s: EstimateSums, alertMargin: number) {
  if (s.estimated === 0 || s.missing > 0) return { estimated: null, reference: null, alert: null };
  const [estimated, reference] = [s.calibrated / s.estimated, s.reference / s.estimated];
  return { estimated, reference, alert: estimated < reference - alertMargin };
}

/** What the row of a window says, at `version`. */
export function comparisonOf(
  w: ComparisonWindow,
  ids: { pipeline: string; modelA: string; modelB: string },
  alertMargin: number,
): ModelComparison {
  const [estA, estB] = [summarize(w.estimateA, alertMargin), summarize(w.estimateB, alertMargin)];
  const methods = new Set([
    ...(estA.estimated === null ? [] : w.estimateA.methods),
    ...(estB.estimated === null ? [] : w.estimateB.methods),
  ]);
  return {
    pipeline: ids.pipeline,
    window_start: w.start,
    window_end: w.end,
    model_a_id: ids.modelA,
    model_b_id: ids.modelB,
    model_a: `${ids.modelA}@${[...w.versionsA].join(',')}`,
    model_b: `${ids.modelB}@${[...w.versionsB].join(',')}`,
    records: w.records,
    agreed: w.agreed,
    agreement: w.records > 0 ? w.agreed / w.records : 0,
    labeled: w.labeled,
    correct_a: w.correctA,
    correct_b: w.correctB,
    accuracy_a: w.labeled > 0 ? w.correctA / w.labeled : null,
    accuracy_b: w.labeled > 0 ? w.correctB / w.labeled : null,
    estimated_accuracy_a: estA.estimated,
    estimated_accuracy_b: estB.estimated,
    reference_accuracy_a: estA.reference,
    reference_accuracy_b: estB.reference,
    estimate_method: methods.size > 0 ? [...methods].sort().join(',') : null,
    estimate_alert_a: estA.alert,
    estimate_alert_b: estB.alert,
    version: w.version,
    updated_at: w.version,
  };
}
