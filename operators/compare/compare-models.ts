/**
 * `compare-models`: Model A vs Model B on the same records, joined with ground-truth labels however late they come.
 *
 * Input is the merge of two streams: prediction records (`{ predictions }`, as `infer` emits them with both models)
 * and `Label`s. Per event-time window over the whole stream, the row emitted at window close holds the records, how
 * often A and B agree, and — for the records labelled so far — how often each is right. Labels are joined by record
 * id: a label for a record of an already-emitted window re-emits that window's row with updated counts and a higher
 * `version`; a label that comes before its prediction waits (pending) and is applied when the prediction arrives.
 *
 * With option `estimate`, each row also carries each model's estimated accuracy (CBPE): the mean calibrated top-class
 * probability of its predictions in the window, each calibrated with the calibration of the version that made it, so
 * there is a figure to watch while labels are late or never come, with an alert when it falls below the reference.
 *
 * State is bounded (README.md): `maxRecords` predictions kept for joining (oldest dropped first), `maxClosedWindows`
 * emitted windows kept for updates (oldest dropped first), `maxPendingLabels` labels waiting for a prediction
 * (oldest expire first). Everything dropped is counted in `stats()`; the warehouse `labels` table stays complete.
 */
import type { Label } from '../../connectors/labels/label.ts';
import { compositeId, type Row } from '../../connectors/warehouse/tables.ts';
import { type Calibration, calibrate } from '../../models/calibration/calibration.ts';
import type { Prediction } from '../../schemas/prediction.ts';
import { type AckToken, releaseAll, retainAll } from '../../streams/ack.ts';
import type { SourcePosition, StreamRecord } from '../../streams/record.ts';
import type { Batch, Stage, StageOutput } from '../../streams/stage.ts';
import { StreamWatermark } from '../window/stream-watermark.ts';
import { type TimeWindowSpec, windowStarts } from '../window/window-spec.ts';

/** One window's comparison, as emitted (again after every update) and stored in `model_comparison`. */
export interface ModelComparison {
  pipeline: string;
  window_start: number;
  window_end: number;
  model_a_id: string;
  model_b_id: string;
  /** `id@version(s)` seen in the window, e.g. `postings-a@v1` or `postings-a@v1,v2` across a hot swap. */
  model_a: string;
  model_b: string;
  records: number;
  agreed: number;
  /** agreed / records */
  agreement: number;
  labeled: number;
  correct_a: number;
  correct_b: number;
  /** correct / labeled; null while nothing in the window is labelled. */
  accuracy_a: number | null;
  accuracy_b: number | null;
  /**
   * Estimated accuracy (option `estimate`): the mean calibrated top-class probability of the model's predictions in the
   * window. Null without the option, or when one of them came from a version without a calibration (or without a
   * confidence in [0, 1]): an estimate over part of a window would pass for one over all of it.
   */
  estimated_accuracy_a: number | null;
  estimated_accuracy_b: number | null;
  /** What the estimate is held against: the reference accuracy of the version behind each prediction, averaged. */
  reference_accuracy_a: number | null;
  reference_accuracy_b: number | null;
  /** Calibration method(s) behind the estimates (`isotonic`, `platt`, `isotonic,platt` across versions); null without any. */
  estimate_method: string | null;
  /** estimated accuracy < reference accuracy − alertMargin; null without an estimate. */
  estimate_alert_a: boolean | null;
  estimate_alert_b: boolean | null;
  /** Emission time (epoch ms), strictly increasing per window: the latest row of a window wins in the warehouse. */
  version: number;
  updated_at: number;
}

/** Confidence-based performance estimation: accuracy per window from each version's calibrated confidence. */
export interface CompareEstimateOptions {
  /**
   * A model version's calibration (see models/calibration: `calibrationFromHeldOut` fits one on the version's held-out
   * data), or undefined when it has none. Asked for every prediction of a version until it answers, then kept: make it
   * a lookup, not a fit.
   */
  calibrationFor(modelId: string, version: string): Calibration | undefined;
  /** Alert when a model's estimate falls below its reference accuracy minus this. Default 0.05. */
  alertMargin?: number;
}

export type CompareInput<P extends { predictions: Prediction[] }> = P | Label;

export interface CompareModelsOptions {
  /** Pipeline name, part of the row id. */
  pipeline: string;
  modelA: string;
  modelB: string;
  /** Event-time windows (tumbling or hopping), one set over the whole stream (every partition and topic). */
  window: TimeWindowSpec;
  /** Watermark = newest prediction event time of the slowest partition − this; a window closes when the watermark passes its end. Default 0. */
  allowedLatenessMs?: number;
  /** Close every open window once no prediction has arrived for this long (wall clock), e.g. when a replay ends. */
  idleTimeoutMs?: number;
  /** Predictions kept for joining late labels (oldest dropped first). Default 200,000. */
  maxRecords?: number;
  /** Emitted windows kept for updates by late labels (oldest dropped first). Default 24. */
  maxClosedWindows?: number;
  /** Labels kept while waiting for their prediction (oldest expire first). Default 100,000. */
  maxPendingLabels?: number;
  /** Clock for `version`/`updated_at` (tests). Default Date.now. */
  now?: () => number;
  /** Estimated accuracy per window and model from calibrated confidence (CBPE); without it the estimate columns are null. */
  estimate?: CompareEstimateOptions;
}

/** Counters since the stage started. */
export interface CompareStats {
  /** Predictions counted into windows. */
  predictions: number;
  /** A record id seen again while still kept (redelivery): not counted twice. */
  duplicatePredictions: number;
  /** Predictions for windows already dropped by `maxClosedWindows`: not counted. */
  predictionsTooLate: number;
  /** Labels applied to a prediction (on arrival, or when their prediction came). */
  labelsJoined: number;
  /** A different label for an already-labelled record: the old one is replaced. */
  labelsChanged: number;
  /** The same label again (redelivery, re-import): nothing changes. */
  labelsRepeated: number;
  /** Labels now waiting for their prediction. */
  labelsPending: number;
  /** Pending labels dropped by `maxPendingLabels`. */
  labelsExpired: number;
  recordsKept: number;
  /** Predictions dropped from the join state by `maxRecords` or with their window; their counts stay in the rows. */
  recordsDropped: number;
  windowsOpen: number;
  windowsClosed: number;
  windowsDropped: number;
  /** Rows emitted again after their window closed. */
  reemitted: number;
}

export interface CompareModelsStage<P extends { predictions: Prediction[] }> extends Stage<CompareInput<P>, ModelComparison> {
  stats(): CompareStats;
}

interface WindowState {
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
  /** Source batches that contributed while open: their offsets stay uncommitted until the window is emitted. */
  tokens: AckToken[];
  tokenSet: Set<AckToken>;
  position: SourcePosition;
}

/** A model's estimate in a window, as sums over its predictions there. */
interface EstimateSums {
  calibrated: number;
  reference: number;
  estimated: number;
  /** Predictions that could not be estimated (no calibration for their version, no usable confidence). */
  missing: number;
  methods: Set<string>;
}

/** One prediction's part of an estimate; null when it cannot be estimated. */
type PredictionEstimate = { calibrated: number; reference: number; method: string } | null;

const noEstimate = (): EstimateSums => ({ calibrated: 0, reference: 0, estimated: 0, missing: 0, methods: new Set() });

const addEstimate = (sums: EstimateSums, e: PredictionEstimate) => {
  if (e === null) {
    sums.missing++;
    return;
  }
  sums.calibrated += e.calibrated;
  sums.reference += e.reference;
  sums.estimated++;
  sums.methods.add(e.method);
};

/** What a late label needs of a record: both predicted classes, its label so far and the windows it counts in. */
interface Entry {
  a: number;
  b: number;
  label: number | null;
  windows: WindowState[];
}

const isPredictionInput = (v: unknown): v is { predictions: Prediction[] } => typeof v === 'object' && v !== null && Array.isArray((v as { predictions?: unknown }).predictions);
/** A Label as decodeLabel makes it (a bare Prediction also has record_id and label: it is not one). */
const isLabel = (v: unknown): v is Label => typeof v === 'object' && v !== null && 'record_id' in v && 'label' in v && 'labeled_at' in v && !('model_id' in v);

export function compareModels<P extends { predictions: Prediction[] }>(name: string, options: CompareModelsOptions): CompareModelsStage<P> {
  const { spec, lateness, maxRecords, maxClosedWindows, maxPendingLabels } = {
    spec: options.window,
    lateness: options.allowedLatenessMs ?? 0,
    maxRecords: options.maxRecords ?? 200_000,
    maxClosedWindows: options.maxClosedWindows ?? 24,
    maxPendingLabels: options.maxPendingLabels ?? 100_000,
  };
  if (options.modelA === options.modelB) throw new Error(`${name}: model A and model B are both ${options.modelA}`);
  if ((spec as { type: string }).type === 'count') throw new Error(`${name}: needs event-time windows (tumbling or hopping), not count windows`);
  const clock = options.now ?? Date.now;

  const windows = new Map<number, WindowState>();
  /** record id → entry, in arrival order (the first one is the oldest, dropped first). */
  const index = new Map<string, Entry>();
  /** record id → label waiting for its prediction, in arrival order. */
  const pending = new Map<string, Label>();
  let watermark = -Infinity;
  /** The slowest partition's clock, so the interleaving of partitions does not decide which windows close. */
  const streamClock = new StreamWatermark(lateness);
  let nextCloseAt = Infinity;
  /** Windows ending at or before this have been dropped: predictions for them are too late. */
  let droppedThrough = -Infinity;
  let lastPrediction = 0;
  const counts = { predictions: 0, duplicatePredictions: 0, predictionsTooLate: 0, labelsJoined: 0, labelsChanged: 0, labelsRepeated: 0, labelsExpired: 0, recordsDropped: 0, windowsDropped: 0, reemitted: 0 };

  const windowFor = (start: number, position: SourcePosition): WindowState => {
    let w = windows.get(start);
    if (!w) {
      const end = start + spec.sizeMs;
      w = { start, end, closed: end <= watermark, version: 0, versionsA: new Set(), versionsB: new Set(), records: 0, agreed: 0, labeled: 0, correctA: 0, correctB: 0, estimateA: noEstimate(), estimateB: noEstimate(), tokens: [], tokenSet: new Set(), position };
      windows.set(start, w);
      if (!w.closed && end < nextCloseAt) nextCloseAt = end;
    }
    return w;
  };

  const hold = (w: WindowState, tokens: readonly AckToken[]) => {
    for (const t of tokens) {
      if (w.tokenSet.has(t)) continue;
      w.tokenSet.add(t);
      t.retain();
      w.tokens.push(t);
    }
  };

  /** Adds (sign 1) or removes (sign −1) a label's contribution to a record's windows. */
  const applyLabel = (e: Entry, label: number, sign: 1 | -1) => {
    for (const w of e.windows) {
      w.labeled += sign;
      if (e.a === label) w.correctA += sign;
      if (e.b === label) w.correctB += sign;
    }
  };

  /** Sets a record's label; returns whether anything changed. */
  const setLabel = (e: Entry, label: number): boolean => {
    if (e.label === label) {
      counts.labelsRepeated++;
      return false;
    }
    if (e.label === null) counts.labelsJoined++;
    else {
      counts.labelsChanged++;
      applyLabel(e, e.label, -1);
    }
    e.label = label;
    applyLabel(e, label, 1);
    return true;
  };

  // A dropped window's records leave the join state lazily (when a label looks them up, or by maxRecords).
  const dropWindow = (w: WindowState) => {
    windows.delete(w.start);
    if (w.end > droppedThrough) droppedThrough = w.end;
    counts.windowsDropped++;
  };

  /** The kept record for an id, if any of its windows is still kept. */
  const lookup = (id: string): Entry | undefined => {
    const e = index.get(id);
    if (!e) return undefined;
    e.windows = e.windows.filter((w) => windows.get(w.start) === w);
    if (e.windows.length > 0) return e;
    index.delete(id);
    counts.recordsDropped++;
    return undefined;
  };

  /** Calibrations found so far, by model id and version (a version without one is asked again next time). */
  const calibrations = new Map<string, Calibration>();
  const estimateOf = (p: Prediction): PredictionEstimate => {
    const key = `${p.model_id}@${p.model_version}`;
    let cal = calibrations.get(key);
    if (!cal) {
      cal = options.estimate!.calibrationFor(p.model_id, p.model_version);
      if (!cal) return null;
      calibrations.set(key, cal);
    }
    if (!(p.confidence >= 0 && p.confidence <= 1 + 1e-6)) return null;
    return { calibrated: calibrate(cal, p.confidence), reference: cal.reference_accuracy, method: cal.method };
  };

  const alertMargin = options.estimate?.alertMargin ?? 0.05;
  const summarize = (s: EstimateSums) => {
    if (s.estimated === 0 || s.missing > 0) return { estimated: null, reference: null, alert: null };
    const [estimated, reference] = [s.calibrated / s.estimated, s.reference / s.estimated];
    return { estimated, reference, alert: estimated < reference - alertMargin };
  };

  const toRecord = (w: WindowState): StreamRecord<ModelComparison> => {
    const now = clock();
    w.version = Math.max(now, w.version + 1);
    const [estA, estB] = [summarize(w.estimateA), summarize(w.estimateB)];
    const methods = new Set([...(estA.estimated === null ? [] : w.estimateA.methods), ...(estB.estimated === null ? [] : w.estimateB.methods)]);
    const value: ModelComparison = {
      pipeline: options.pipeline,
      window_start: w.start,
      window_end: w.end,
      model_a_id: options.modelA,
      model_b_id: options.modelB,
      model_a: `${options.modelA}@${[...w.versionsA].join(',')}`,
      model_b: `${options.modelB}@${[...w.versionsB].join(',')}`,
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
    return { key: compositeId(options.pipeline, w.start, options.modelA, options.modelB), value, eventTime: w.end - 1, headers: {}, position: w.position };
  };

  /**
   * Emits the windows that closed (with the references they held) and the closed ones that changed (with the current
   * batch's references, so the labels that changed them are acknowledged once the new rows are written).
   */
  const emit = (closing: WindowState[], changed: Set<WindowState>, batchTokens: readonly AckToken[], out: StageOutput<ModelComparison>) => {
    const rows = new Set<WindowState>(closing);
    for (const w of changed) if (w.closed && windows.get(w.start) === w) rows.add(w);
    if (rows.size === 0) return;
    const tokens: AckToken[] = [];
    for (const w of closing) {
      for (const t of w.tokens) tokens.push(t);
      w.tokens = [];
      w.tokenSet.clear();
    }
    if ([...changed].some((w) => rows.has(w))) {
      retainAll(batchTokens);
      for (const t of batchTokens) tokens.push(t);
    }
    const ordered = [...rows].sort((x, y) => x.end - y.end || x.start - y.start);
    for (const w of ordered) if (w.version > 0) counts.reemitted++;
    out.emit({ records: ordered.map(toRecord), tokens });
    // Keep at most maxClosedWindows emitted windows, dropping those that end first.
    const closed = [...windows.values()].filter((w) => w.closed).sort((x, y) => x.end - y.end);
    for (let i = 0; i < closed.length - maxClosedWindows; i++) dropWindow(closed[i]!);
  };

  const closeUpTo = (limit: number, closing: WindowState[]) => {
    let next = Infinity;
    for (const w of windows.values()) {
      if (w.closed) continue;
      if (w.end <= limit) {
        w.closed = true;
        closing.push(w);
      } else if (w.end < next) next = w.end;
    }
    nextCloseAt = next;
  };

  const onPrediction = (record: StreamRecord<CompareInput<P>>, value: { predictions: Prediction[] }, tokens: readonly AckToken[], changed: Set<WindowState>, closing: WindowState[]) => {
    const a = value.predictions.find((p) => p.model_id === options.modelA);
    const b = value.predictions.find((p) => p.model_id === options.modelB);
    const got = value.predictions.map((p) => p.model_id).join(', ') || 'none';
    if (!a) throw new Error(`no prediction from model A (${options.modelA}); predictions from: ${got}`);
    if (!b) throw new Error(`no prediction from model B (${options.modelB}); predictions from: ${got}`);
    if (a.record_id !== b.record_id) throw new Error(`predictions are for different records: A ${a.record_id}, B ${b.record_id}`);
    const t = record.eventTime;
    if (!Number.isFinite(t)) throw new Error(`event time is not a finite number: ${t}`);
    lastPrediction = Date.now();
    const wm = streamClock.observe(record, lastPrediction);
    const id = a.record_id;
    if (index.has(id)) {
      counts.duplicatePredictions++;
      return;
    }
    const entry: Entry = { a: a.label, b: b.label, label: null, windows: [] };
    const [estimateA, estimateB] = options.estimate ? [estimateOf(a), estimateOf(b)] : [null, null];
    for (const start of windowStarts(spec, t)) {
      if (start + spec.sizeMs <= droppedThrough && !windows.has(start)) continue;
      const w = windowFor(start, record.position);
      w.records++;
      if (a.label === b.label) w.agreed++;
      if (options.estimate) {
        addEstimate(w.estimateA, estimateA);
        addEstimate(w.estimateB, estimateB);
      }
      w.versionsA.add(a.model_version);
      w.versionsB.add(b.model_version);
      w.position = record.position;
      entry.windows.push(w);
      if (w.closed) changed.add(w);
      else hold(w, tokens);
    }
    if (entry.windows.length === 0) {
      counts.predictionsTooLate++;
      return;
    }
    counts.predictions++;
    index.set(id, entry);
    if (index.size > maxRecords) {
      index.delete(index.keys().next().value!); // its windows keep its counts; it just cannot be joined any more
      counts.recordsDropped++;
    }
    const waiting = pending.get(id);
    if (waiting) {
      pending.delete(id);
      setLabel(entry, waiting.label);
    }
    if (wm > watermark) {
      watermark = wm;
      if (wm >= nextCloseAt) closeUpTo(wm, closing);
    }
  };

  const onLabel = (value: Label, tokens: readonly AckToken[], changed: Set<WindowState>) => {
    if (typeof value.record_id !== 'string' || value.record_id === '') throw new Error('label without a record_id');
    if (!Number.isInteger(value.label) || value.label < 0) throw new Error(`label must be a class index, got ${JSON.stringify(value.label)}`);
    const entry = lookup(value.record_id);
    if (!entry) {
      // Before its prediction (or after it was dropped): wait, newest last.
      pending.delete(value.record_id);
      pending.set(value.record_id, value);
      if (pending.size > maxPendingLabels) {
        pending.delete(pending.keys().next().value!);
        counts.labelsExpired++;
      }
      return;
    }
    if (!setLabel(entry, value.label)) return;
    for (const w of entry.windows) {
      if (w.closed) changed.add(w);
      else hold(w, tokens);
    }
  };

  return {
    name,
    onBatch(batch: Batch<CompareInput<P>>, out) {
      const changed = new Set<WindowState>();
      const closing: WindowState[] = [];
      for (const record of batch.records) {
        const value = record.value as unknown;
        try {
          if (isPredictionInput(value)) onPrediction(record, value, batch.tokens, changed, closing);
          else if (isLabel(value)) onLabel(value, batch.tokens, changed);
          else throw new Error('neither predictions ({ predictions: [...] }) nor a label ({ record_id, label, labeled_at, ... })');
        } catch (error) {
          out.deadLetter(record, error);
        }
      }
      emit(closing, changed, batch.tokens, out);
      releaseAll(batch.tokens);
    },

    onTick(now, out) {
      if (options.idleTimeoutMs === undefined || now - lastPrediction < options.idleTimeoutMs) return;
      const closing: WindowState[] = [];
      closeUpTo(Infinity, closing);
      // Predictions still to come for these windows update them like late labels do.
      for (const w of closing) if (w.end > watermark) watermark = w.end;
      streamClock.advanceTo(watermark);
      emit(closing, new Set(), [], out);
    },

    onEnd(out) {
      const closing: WindowState[] = [];
      closeUpTo(Infinity, closing);
      emit(closing, new Set(), [], out);
    },

    // One set of windows over every partition: a rebalance does not drop it (run one consumer; see README).
    onRevoke() {},

    stats(): CompareStats {
      let open = 0;
      for (const w of windows.values()) if (!w.closed) open++;
      return { ...counts, labelsPending: pending.size, recordsKept: index.size, windowsOpen: open, windowsClosed: windows.size - open };
    },
  };
}

/** A UInt8 flag column: 1, 0, or null when unknown. */
const flag = (b: boolean | null): number | null => (b === null ? null : b ? 1 : 0);

/** The `model_comparison` row: id = pipeline/window_start/model A id/model B id, so re-emissions replace it. */
export function modelComparisonRow(c: ModelComparison, runId: string): Row {
  return {
    id: compositeId(runId, c.pipeline, c.window_start, c.model_a_id, c.model_b_id), // a replay sits beside the live run
    version: c.version,
    run_id: runId,
    pipeline: c.pipeline,
    window_start: c.window_start,
    window_end: c.window_end,
    model_a: c.model_a,
    model_b: c.model_b,
    records: c.records,
    agreement: c.agreement,
    labeled: c.labeled,
    correct_a: c.correct_a,
    correct_b: c.correct_b,
    accuracy_a: c.accuracy_a,
    accuracy_b: c.accuracy_b,
    updated_at: c.updated_at,
    estimated_accuracy_a: c.estimated_accuracy_a,
    estimated_accuracy_b: c.estimated_accuracy_b,
    reference_accuracy_a: c.reference_accuracy_a,
    reference_accuracy_b: c.reference_accuracy_b,
    estimate_method: c.estimate_method,
    estimate_alert_a: flag(c.estimate_alert_a),
    estimate_alert_b: flag(c.estimate_alert_b),
  };
}
