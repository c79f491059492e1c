/**
 * `pseudo-label`: confident Model A predictions become training examples for Model B, with the safeguards
 * self-training needs (see README.md):
 *
 *   - confidence above a threshold (default 0.9; A's calibrated max probability);
 *   - a per-class cap following the class prior of the labelled data: in each window, class c may take at most
 *     ceil(prior[c] × confident predictions) examples — its most confident ones — so a model biased towards one
 *     class cannot flood B with it;
 *   - Model B never labels its own training data: predictions of the target model are refused;
 *   - a pause while drift-window reports dataset-level drift for the window: A's confidence means little there.
 *
 * Input is the merge of two streams: predictions (`{ prediction }`) and drift verdicts (`{ drift }`) from a
 * drift-window with the same tumbling windows. A window is decided once event time has passed its end and its drift
 * verdict has arrived (or at end of input), so the result does not depend on how the two streams interleave.
 * Output: accepted pseudo-labels (`kind: 'label'`) and one summary per window (`kind: 'window'`, accept rate, alarm).
 */
import type { StreamRecord } from '../../streams/kernel/record.ts';
import type { Stage } from '../../streams/kernel/stage.ts';
import { type StatefulContext, type StatefulLogic, statefulStage } from '../../streams/kernel/stateful.ts';
import { type Window, Windower } from '../../streams/kernel/windower.ts';
import type { Prediction } from '../../schemas/prediction.ts';
import type { TimeWindowSpec } from '../../streams/kernel/operators/window/window-spec.ts';
import { type Candidate, selectByClassPrior } from './pseudo-label-selection.ts';

export type PseudoLabelInput<T> = { prediction: T } | { drift: { windowStart: number; datasetDrift: boolean } };

export interface PseudoLabel<T> {
  kind: 'label';
  value: T;
  recordId: string;
  label: number;
  confidence: number;
  sourceModelId: string;
  sourceModelVersion: string;
  windowStart: number;
  /** The event time the label became usable: when its window closed (its end plus the allowed lateness). */
  availableAt: number;
}

export interface PseudoLabelWindow {
  kind: 'window';
  pipeline: string;
  windowStart: number;
  windowEnd: number;
  predictions: number;
  confident: number;
  accepted: number;
  acceptedPerClass: number[];
  rejectedClassCap: number;
  rejectedDriftPause: number;
  rejectedOwnModel: number;
  acceptRate: number;
  /** The accept rate collapsed to zero although predictions arrived and nothing paused labelling. */
  alarm: boolean;
  paused: boolean;
}

export type PseudoLabelOutput<T> = PseudoLabel<T> | PseudoLabelWindow;

export interface PseudoLabelOptions<T> {
  pipeline: string;
  /** Model A's prediction for the record. */
  prediction: (value: T) => Prediction;
  /** The model being trained (B); its own predictions are never used as labels. */
  targetModelId: string;
  /** Class prior of the labelled data (sums to 1), e.g. the training set's class shares. */
  classPrior: number[];
  /** Must be the drift-window's windows for the pause to line up. */
  window: TimeWindowSpec & { type: 'tumbling' };
  /** Confidence must exceed this. Default 0.9. */
  threshold?: number;
  /** Default true. */
  pauseOnDrift?: boolean;
  allowedLatenessMs?: number;
  /** No alarm for windows with fewer predictions. Default 20. */
  minPredictionsForAlarm?: number;
  /** Called for every alarm (default console.warn). */
  onAlarm?: (window: PseudoLabelWindow) => void;
  /**
   * Called after every batch (and at the end) with the labels accepted meanwhile and the event time before which
   * every label is decided: no later label is usable at or before `upTo` (Infinity at the end). Model B's
   * event-time trainer takes its pseudo-labels from here.
   */
  onProgress?: (labels: PseudoLabel<T>[], upTo: number) => void;
}

/** A window's predictions so far; the object is also the state id its confident predictions' batches are held under. */
interface WindowCounts<T> {
  predictions: number;
  ownModel: number;
  candidates: Candidate<T>[];
}

export function pseudoLabel<T>(
  name: string,
  options: PseudoLabelOptions<T>,
): Stage<PseudoLabelInput<T>, PseudoLabelOutput<T>> {
  const { classPrior } = options;
  if (Math.abs(classPrior.reduce((a, b) => a + b, 0) - 1) > 1e-6)
    throw new Error(`pseudo-label ${name}: classPrior must sum to 1, got ${classPrior.join(', ')}`);
  return statefulStage(name, new PseudoLabeller(options));
}

/**
 * Tumbling windows over the whole stream (the windower, stream scope); a window the clock has closed waits for its
 * drift verdict before it is decided. Only confident predictions hold their batches: the others have nothing to emit.
 */
class PseudoLabeller<T> implements StatefulLogic<PseudoLabelInput<T>, PseudoLabelOutput<T>> {
  private readonly lateness: number;
  private readonly threshold: number;
  private readonly pauseOnDrift: boolean;
  private readonly windower: Windower<T, WindowCounts<T>>;
  /** Windows the clock has closed, waiting for their verdict. */
  private readonly awaiting = new Map<number, Window<WindowCounts<T>>>();
  private readonly verdicts = new Map<number, boolean>();
  /** drift-window reports windows in order: once a later window has its verdict, an earlier one will get none. */
  private latestVerdict = -Infinity;
  /** Labels accepted since the last `onProgress`. */
  private decidedLabels: PseudoLabel<T>[] = [];
  /** The keys of the batch being windowed, given back to the labels it accepts. */
  private readonly keys = new Map<StreamRecord<T>, string | null>();
  /** The context of the batch being windowed, for holding confident predictions' batches. */
  private ctx: StatefulContext<PseudoLabelOutput<T>> | undefined;

  constructor(private readonly options: PseudoLabelOptions<T>) {
    this.lateness = options.allowedLatenessMs ?? 0;
    this.threshold = options.threshold ?? 0.9;
    this.pauseOnDrift = options.pauseOnDrift ?? true;
    this.windower = new Windower<T, WindowCounts<T>>({
      spec: options.window,
      scope: 'stream',
      allowedLatenessMs: this.lateness,
      holdBatches: false,
      init: () => ({ predictions: 0, ownModel: 0, candidates: [] }),
      add: (w, value, record) => this.count(w, value, record),
    });
  }

  onBatch(records: StreamRecord<PseudoLabelInput<T>>[], ctx: StatefulContext<PseudoLabelOutput<T>>): void {
    const predictions: StreamRecord<T>[] = [];
    for (const record of records) {
      const input = record.value;
      if ('drift' in input) this.verdict(input.drift.windowStart, input.drift.datasetDrift);
      else {
        // One window over the whole stream, whatever the records' keys: the windower keys windows by record key.
        const keyless: StreamRecord<T> = { ...record, key: null, value: input.prediction };
        this.keys.set(keyless, record.key);
        predictions.push(keyless);
      }
    }
    this.ctx = ctx;
    // Windows already decided are too late to count (the late records are dropped); the windows the clock passed wait
    // for their verdicts.
    for (const w of this.windower.add(predictions, ctx).closed) this.awaiting.set(w.start, w);
    this.ctx = undefined;
    this.keys.clear();
    this.decideReady(ctx, false);
    this.reportProgress(this.decidedBefore());
  }

  onEof(ctx: StatefulContext<PseudoLabelOutput<T>>): void {
    for (const w of this.windower.closeAll()) this.awaiting.set(w.start, w);
    this.decideReady(ctx, true);
    this.reportProgress(Infinity);
  }

  onRevoke(): void {
    // Windows span partitions (one pseudo-label rate per window): keep them, as a stream-scoped window does.
  }

  private verdict(windowStart: number, datasetDrift: boolean): void {
    this.verdicts.set(windowStart, datasetDrift);
    if (windowStart > this.latestVerdict) this.latestVerdict = windowStart;
  }

  private count(w: WindowCounts<T>, value: T, record: StreamRecord<T>): WindowCounts<T> {
    w.predictions++;
    const prediction = this.options.prediction(value);
    if (prediction.model_id === this.options.targetModelId) w.ownModel++;
    else if (prediction.confidence > this.threshold) {
      w.candidates.push({ record: { ...record, key: this.keys.get(record) ?? null }, prediction });
      this.ctx!.hold(w);
    }
    return w;
  }

  /** Before this event time every label is decided: the clock so far, held back by windows still undecided. */
  private decidedBefore(): number {
    const seen = this.windower.streamWatermark + this.lateness;
    let undecided = this.windower.earliestOpenEnd();
    for (const w of this.awaiting.values()) if (w.end < undecided) undecided = w.end;
    return Math.min(seen, undecided + this.lateness) - 1;
  }

  private reportProgress(upTo: number): void {
    if (!this.options.onProgress) return;
    const labels = this.decidedLabels;
    this.decidedLabels = [];
    this.options.onProgress(labels, upTo);
  }

  /** Closed windows whose drift verdict is in (or not needed), oldest first; every waiting one at the end. */
  private decideReady(ctx: StatefulContext<PseudoLabelOutput<T>>, all: boolean): void {
    const hasVerdict = (start: number) => !this.pauseOnDrift || this.verdicts.has(start) || this.latestVerdict > start;
    const ready = [...this.awaiting.values()].filter((w) => all || hasVerdict(w.start));
    ready.sort((a, b) => a.start - b.start);
    for (const w of ready) this.decide(w, ctx);
  }

  private decide(w: Window<WindowCounts<T>>, ctx: StatefulContext<PseudoLabelOutput<T>>): void {
    this.awaiting.delete(w.start);
    const paused = this.pauseOnDrift && this.verdicts.get(w.start) === true;
    this.verdicts.delete(w.start);
    const { candidates } = w.acc;
    const selection = paused
      ? { accepted: [], acceptedPerClass: this.options.classPrior.map(() => 0), rejectedClassCap: 0 }
      : selectByClassPrior(candidates, this.options.classPrior);
    const summary = this.summaryOf(w, selection, paused);
    const availableAt = w.end + this.lateness;
    const labels = selection.accepted.map(
      ({ prediction: p, record }): PseudoLabel<T> => ({
        kind: 'label',
        value: record.value,
        recordId: p.record_id,
        label: p.label,
        confidence: p.confidence,
        sourceModelId: p.model_id,
        sourceModelVersion: p.model_version,
        windowStart: w.start,
        availableAt,
      }),
    );
    this.decidedLabels.push(...labels);
    const records: StreamRecord<PseudoLabelOutput<T>>[] = selection.accepted.map((x, i) => ({
      ...x.record,
      value: labels[i]!,
    }));
    const last = candidates[candidates.length - 1]?.record;
    records.push({
      key: null,
      value: summary,
      eventTime: w.end - 1,
      headers: {},
      position: last?.position ?? { topic: '', partition: 0, offset: 0 },
    });
    ctx.emit(records, { closes: [w.acc] });
  }

  private summaryOf(
    w: Window<WindowCounts<T>>,
    selection: ReturnType<typeof selectByClassPrior<T>>,
    paused: boolean,
  ): PseudoLabelWindow {
    const { predictions, candidates, ownModel } = w.acc;
    const accepted = selection.accepted.length;
    const summary: PseudoLabelWindow = {
      kind: 'window',
      pipeline: this.options.pipeline,
      windowStart: w.start,
      windowEnd: w.end,
      predictions,
      confident: candidates.length,
      accepted,
      acceptedPerClass: selection.acceptedPerClass,
      rejectedClassCap: selection.rejectedClassCap,
      rejectedDriftPause: paused ? candidates.length : 0,
      rejectedOwnModel: ownModel,
      acceptRate: predictions === 0 ? 0 : accepted / predictions,
      alarm: !paused && accepted === 0 && predictions >= (this.options.minPredictionsForAlarm ?? 20),
      paused,
    };
    if (summary.alarm) this.alarm(summary);
    return summary;
  }

  private alarm(w: PseudoLabelWindow): void {
    if (this.options.onAlarm) this.options.onAlarm(w);
    else
      console.warn(
        `pseudo-label ${this.options.pipeline}: accept rate collapsed to 0 in ` +
          `window ${new Date(w.windowStart).toISOString()} (${w.predictions} predictions, ${w.confident} confident)`,
      );
  }
}
