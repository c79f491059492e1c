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
import type { Label } from '../../schemas/label.ts';
import { compositeId, type Row } from '../../schemas/warehouse-row.ts';
import type { Calibration } from '../../models/calibration/calibration.ts';
import type { Prediction } from '../../schemas/prediction.ts';
import type { StreamRecord } from '../../streams/kernel/record.ts';
import { type StatefulContext, type StatefulLogic, statefulStage } from '../../streams/kernel/stateful.ts';
import type { Stage } from '../../streams/kernel/stage.ts';
import { StreamWatermark } from '../../streams/kernel/operators/window/stream-watermark.ts';
import { type TimeWindowSpec, windowStarts } from '../../streams/kernel/operators/window/window-spec.ts';
import {
  addEstimate,
  Calibrations,
  type ComparisonWindow,
  comparisonOf,
  newComparisonWindow,
} from './comparison-window.ts';

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
  /**
   * Calibration method(s) behind the estimates (`isotonic`, `platt`, `isotonic,platt` across versions); null without
   * any.
   */
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
  /**
   * Watermark = newest prediction event time of the slowest partition − this; a window closes when the watermark passes
   * its end. Default 0.
   */
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
  /**
   * Estimated accuracy per window and model from calibrated confidence (CBPE); without it the estimate columns are
   * null.
   */
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

export interface CompareModelsStage<P extends { predictions: Prediction[] }>
  extends Stage<CompareInput<P>, ModelComparison> {
  stats(): CompareStats;
}

/** What a late label needs of a record: both predicted classes, its label so far and the windows it counts in. */
interface Entry {
  a: number;
  b: number;
  label: number | null;
  windows: ComparisonWindow[];
}

const isPredictionInput = (v: unknown): v is { predictions: Prediction[] } =>
  typeof v === 'object' && v !== null && Array.isArray((v as { predictions?: unknown }).predictions);
/** A Label as decodeLabel makes it (a bare Prediction also has record_id and label: it is not one). */
const isLabel = (v: unknown): v is Label =>
  typeof v === 'object' && v !== null && 'record_id' in v && 'label' in v && 'labeled_at' in v && !('model_id' in v);

type Counts = Omit<CompareStats, 'labelsPending' | 'recordsKept' | 'windowsOpen' | 'windowsClosed'>;
type Context = StatefulContext<ModelComparison>;

export function compareModels<P extends { predictions: Prediction[] }>(
  name: string,
  options: CompareModelsOptions,
): CompareModelsStage<P> {
  if (options.modelA === options.modelB) throw new Error(`${name}: model A and model B are both ${options.modelA}`);
  if ((options.window as { type: string }).type === 'count')
    throw new Error(`${name}: needs event-time windows (tumbling or hopping), not count windows`);
  const comparer = new ModelComparer<P>(options);
  return Object.assign(statefulStage(name, comparer), { stats: () => comparer.stats() });
}

/**
 * Windows over the whole stream that stay after they close (up to `maxClosedWindows`), so late labels can update
 * them. An open window holds the batches of its predictions and labels; a closed one that changes is emitted
 * again with the batch that changed it.
 */
class ModelComparer<P extends { predictions: Prediction[] }>
  implements StatefulLogic<CompareInput<P>, ModelComparison>
{
  private readonly spec: TimeWindowSpec;
  private readonly windows = new Map<number, ComparisonWindow>();
  /** record id → entry, in arrival order (the first one is the oldest, dropped first). */
  private readonly index = new Map<string, Entry>();
  /** record id → label waiting for its prediction, in arrival order. */
  private readonly pending = new Map<string, Label>();
  private watermark = -Infinity;
  /** The slowest partition's clock, so the interleaving of partitions does not decide which windows close. */
  private readonly streamClock: StreamWatermark;
  private nextCloseAt = Infinity;
  /** Windows ending at or before this have been dropped: predictions for them are too late. */
  private droppedThrough = -Infinity;
  private lastPrediction = 0;
  private readonly counts: Counts = {
    predictions: 0,
    duplicatePredictions: 0,
    predictionsTooLate: 0,
    labelsJoined: 0,
    labelsChanged: 0,
    labelsRepeated: 0,
    labelsExpired: 0,
    recordsDropped: 0,
    windowsDropped: 0,
    reemitted: 0,
  };
  private readonly calibrations: Calibrations | undefined;

  constructor(private readonly options: CompareModelsOptions) {
    this.spec = options.window;
    this.streamClock = new StreamWatermark(options.allowedLatenessMs ?? 0);
    this.calibrations =
      options.estimate && new Calibrations((id, version) => options.estimate!.calibrationFor(id, version));
  }

  onBatch(records: StreamRecord<CompareInput<P>>[], ctx: Context): void {
    const changed = new Set<ComparisonWindow>();
    const closing: ComparisonWindow[] = [];
    for (const record of records) {
      const value = record.value as unknown;
      try {
        if (isPredictionInput(value)) this.onPrediction(record, value, ctx, changed, closing);
        else if (isLabel(value)) this.onLabel(value, ctx, changed);
        else
          throw new Error(
            'neither predictions ({ predictions: [...] }) nor a label ({ record_id, label, labeled_at, ... })',
          );
      } catch (error) {
        ctx.deadLetter(record, error);
      }
    }
    this.emit(closing, changed, ctx);
  }

  onNotify(now: number, ctx: Context): void {
    if (this.options.idleTimeoutMs === undefined || now - this.lastPrediction < this.options.idleTimeoutMs) return;
    const closing: ComparisonWindow[] = [];
    this.closeUpTo(Infinity, closing);
    // Predictions still to come for these windows update them like late labels do.
    for (const w of closing) if (w.end > this.watermark) this.watermark = w.end;
    this.streamClock.advanceTo(this.watermark);
    this.emit(closing, new Set(), ctx);
  }

  onEof(ctx: Context): void {
    const closing: ComparisonWindow[] = [];
    this.closeUpTo(Infinity, closing);
    this.emit(closing, new Set(), ctx);
  }

  // One set of windows over every partition: a rebalance does not drop it (run one consumer; see README).
  onRevoke(): void {}

  stats(): CompareStats {
    let open = 0;
    for (const w of this.windows.values()) if (!w.closed) open++;
    return {
      ...this.counts,
      labelsPending: this.pending.size,
      recordsKept: this.index.size,
      windowsOpen: open,
      windowsClosed: this.windows.size - open,
    };
  }

  private onPrediction(
    record: StreamRecord<CompareInput<P>>,
    value: { predictions: Prediction[] },
    ctx: Context,
    changed: Set<ComparisonWindow>,
    closing: ComparisonWindow[],
  ): void {
    const [a, b] = this.pair(value.predictions);
    const t = record.eventTime;
    if (!Number.isFinite(t)) throw new Error(`event time is not a finite number: ${t}`);
    this.lastPrediction = Date.now();
    const wm = this.streamClock.observe(record, this.lastPrediction);
    if (this.index.has(a.record_id)) {
      this.counts.duplicatePredictions++;
      return;
    }
    const entry: Entry = { a: a.label, b: b.label, label: null, windows: [] };
    this.count(entry, record, a, b, ctx, changed);
    if (entry.windows.length === 0) {
      this.counts.predictionsTooLate++;
      return;
    }
    this.keep(a.record_id, entry);
    if (wm > this.watermark) {
      this.watermark = wm;
      if (wm >= this.nextCloseAt) this.closeUpTo(wm, closing);
    }
  }

  /** Model A's and model B's predictions of one record. */
  private pair(predictions: Prediction[]): [Prediction, Prediction] {
    const a = predictions.find((p) => p.model_id === this.options.modelA);
    const b = predictions.find((p) => p.model_id === this.options.modelB);
    const got = predictions.map((p) => p.model_id).join(', ') || 'none';
    if (!a) throw new Error(`no prediction from model A (${this.options.modelA}); predictions from: ${got}`);
    if (!b) throw new Error(`no prediction from model B (${this.options.modelB}); predictions from: ${got}`);
    if (a.record_id !== b.record_id)
      throw new Error(`predictions are for different records: A ${a.record_id}, B ${b.record_id}`);
    return [a, b];
  }

  /** Counts the prediction pair into every window of its time still kept. */
  private count(
    entry: Entry,
    record: StreamRecord<unknown>,
    a: Prediction,
    b: Prediction,
    ctx: Context,
    changed: Set<ComparisonWindow>,
  ): void {
    const [estimateA, estimateB] = this.calibrations
      ? [this.calibrations.estimateOf(a), this.calibrations.estimateOf(b)]
      : [null, null];
    for (const start of windowStarts(this.spec, record.eventTime)) {
      if (start + this.spec.sizeMs <= this.droppedThrough && !this.windows.has(start)) continue;
      const w = this.windowFor(start, record);
      w.records++;
      if (a.label === b.label) w.agreed++;
      if (this.calibrations) {
        addEstimate(w.estimateA, estimateA);
        addEstimate(w.estimateB, estimateB);
      }
      w.versionsA.add(a.model_version);
      w.versionsB.add(b.model_version);
      w.position = record.position;
      entry.windows.push(w);
      if (w.closed) changed.add(w);
      else ctx.hold(w);
    }
  }

  /** Keeps a counted record for joining, within `maxRecords`, and applies a label that came before it. */
  private keep(id: string, entry: Entry): void {
    this.counts.predictions++;
    this.index.set(id, entry);
    if (this.index.size > (this.options.maxRecords ?? 200_000)) {
      // its windows keep its counts; it just cannot be joined any more
      this.index.delete(this.index.keys().next().value!);
      this.counts.recordsDropped++;
    }
    const waiting = this.pending.get(id);
    if (waiting) {
      this.pending.delete(id);
      this.setLabel(entry, waiting.label);
    }
  }

  private windowFor(start: number, record: StreamRecord<unknown>): ComparisonWindow {
    let w = this.windows.get(start);
    if (!w) {
      const end = start + this.spec.sizeMs;
      w = newComparisonWindow(start, end, end <= this.watermark, record.position);
      this.windows.set(start, w);
      if (!w.closed && end < this.nextCloseAt) this.nextCloseAt = end;
    }
    return w;
  }

  private onLabel(value: Label, ctx: Context, changed: Set<ComparisonWindow>): void {
    if (typeof value.record_id !== 'string' || value.record_id === '') throw new Error('label without a record_id');
    if (!Number.isInteger(value.label) || value.label < 0)
      throw new Error(`label must be a class index, got ${JSON.stringify(value.label)}`);
    const entry = this.lookup(value.record_id);
    if (!entry) {
      this.wait(value);
      return;
    }
    if (!this.setLabel(entry, value.label)) return;
    for (const w of entry.windows) {
      if (w.closed) changed.add(w);
      else ctx.hold(w);
    }
  }

  /** A label before its prediction (or after it was dropped) waits, newest last, within `maxPendingLabels`. */
  private wait(label: Label): void {
    this.pending.delete(label.record_id);
    this.pending.set(label.record_id, label);
    if (this.pending.size > (this.options.maxPendingLabels ?? 100_000)) {
      this.pending.delete(this.pending.keys().next().value!);
      this.counts.labelsExpired++;
    }
  }

  /** Sets a record's label; returns whether anything changed. */
  private setLabel(e: Entry, label: number): boolean {
    if (e.label === label) {
      this.counts.labelsRepeated++;
      return false;
    }
    if (e.label === null) this.counts.labelsJoined++;
    else {
      this.counts.labelsChanged++;
      applyLabel(e, e.label, -1);
    }
    e.label = label;
    applyLabel(e, label, 1);
    return true;
  }

  /** The kept record for an id, if any of its windows is still kept (a dropped window's records leave lazily). */
  private lookup(id: string): Entry | undefined {
    const e = this.index.get(id);
    if (!e) return undefined;
    e.windows = e.windows.filter((w) => this.windows.get(w.start) === w);
    if (e.windows.length > 0) return e;
    this.index.delete(id);
    this.counts.recordsDropped++;
    return undefined;
  }

  private closeUpTo(limit: number, closing: ComparisonWindow[]): void {
    let next = Infinity;
    for (const w of this.windows.values()) {
      if (w.closed) continue;
      if (w.end <= limit) {
        w.closed = true;
        closing.push(w);
      } else if (w.end < next) next = w.end;
    }
    this.nextCloseAt = next;
  }

  /**
   * Emits the windows that closed (acknowledged with the batches they held) and the closed ones that changed
   * (acknowledged with the current batch, so the labels that changed them are committed once the new rows are written).
   */
  private emit(closing: ComparisonWindow[], changed: Set<ComparisonWindow>, ctx: Context): void {
    const rows = new Set<ComparisonWindow>(closing);
    for (const w of changed) if (w.closed && this.windows.get(w.start) === w) rows.add(w);
    if (rows.size === 0) return;
    const ordered = [...rows].sort((x, y) => x.end - y.end || x.start - y.start);
    for (const w of ordered) if (w.version > 0) this.counts.reemitted++;
    ctx.emit(
      ordered.map((w) => this.toRecord(w)),
      { closes: closing, withBatch: [...changed].some((w) => rows.has(w)) },
    );
    // Keep at most maxClosedWindows emitted windows, dropping those that end first.
    const closed = [...this.windows.values()].filter((w) => w.closed).sort((x, y) => x.end - y.end);
    for (let i = 0; i < closed.length - (this.options.maxClosedWindows ?? 24); i++) this.dropWindow(closed[i]!);
  }

  private dropWindow(w: ComparisonWindow): void {
    this.windows.delete(w.start);
    if (w.end > this.droppedThrough) this.droppedThrough = w.end;
    this.counts.windowsDropped++;
  }

  private toRecord(w: ComparisonWindow): StreamRecord<ModelComparison> {
    w.version = Math.max((this.options.now ?? Date.now)(), w.version + 1);
    const { pipeline, modelA, modelB } = this.options;
    const value = comparisonOf(w, { pipeline, modelA, modelB }, this.options.estimate?.alertMargin ?? 0.05);
    return {
      key: compositeId(pipeline, w.start, modelA, modelB),
      value,
      eventTime: w.end - 1,
      headers: {},
      position: w.position,
    };
  }
}

/** Adds (sign 1) or removes (sign −1) a label's contribution to a record's windows. */
function applyLabel(e: Entry, label: number, sign: 1 | -1): void {
  for (const w of e.windows) {
    w.labeled += sign;
    if (e.a === label) w.correctA += sign;
    if (e.b === label) w.correctB += sign;
  }
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
