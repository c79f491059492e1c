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
import { type AckToken, releaseAll } from '../../streams/ack.ts';
import type { StreamRecord } from '../../streams/record.ts';
import type { Batch, Stage, StageOutput } from '../../streams/stage.ts';
import type { Prediction } from '../../schemas/prediction.ts';
import { StreamWatermark } from '../window/stream-watermark.ts';
import type { TimeWindowSpec } from '../window/window-spec.ts';

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

interface Candidate<T> {
  record: StreamRecord<T>;
  prediction: Prediction;
}

interface OpenWindow<T> {
  start: number;
  predictions: number;
  ownModel: number;
  candidates: Candidate<T>[];
  tokens: Set<AckToken>;
}

export function pseudoLabel<T>(name: string, options: PseudoLabelOptions<T>): Stage<PseudoLabelInput<T>, PseudoLabelOutput<T>> {
  const { classPrior, targetModelId } = options;
  const size = options.window.sizeMs;
  const threshold = options.threshold ?? 0.9;
  const pauseOnDrift = options.pauseOnDrift ?? true;
  const lateness = options.allowedLatenessMs ?? 0;
  const minForAlarm = options.minPredictionsForAlarm ?? 20;
  const onAlarm = options.onAlarm ?? ((w) => console.warn(`pseudo-label ${options.pipeline}: accept rate collapsed to 0 in window ${new Date(w.windowStart).toISOString()} (${w.predictions} predictions, ${w.confident} confident)`));
  if (Math.abs(classPrior.reduce((a, b) => a + b, 0) - 1) > 1e-6) throw new Error(`pseudo-label ${name}: classPrior must sum to 1, got ${classPrior.join(', ')}`);

  const open = new Map<number, OpenWindow<T>>();
  /** Labels accepted since the last `onProgress`. */
  let decidedLabels: PseudoLabel<T>[] = [];
  let seen = -Infinity;
  /** Before this event time every label is decided: the clock so far, held back by windows still undecided. */
  const decidedBefore = () => Math.min(seen, ...[...open.values()].map((w) => w.start + size + lateness)) - 1;
  const reportProgress = (upTo: number) => {
    if (!options.onProgress) return;
    const labels = decidedLabels;
    decidedLabels = [];
    options.onProgress(labels, upTo);
  };
  const verdicts = new Map<number, boolean>();
  /** drift-window reports windows in order: once a later window has its verdict, an earlier one will get none. */
  let latestVerdict = -Infinity;
  let watermark = -Infinity;
  /** The slowest partition's clock, so the interleaving of partitions does not decide which windows close. */
  const clock = new StreamWatermark(lateness);

  const windowOf = (start: number) => {
    let w = open.get(start);
    if (!w) open.set(start, (w = { start, predictions: 0, ownModel: 0, candidates: [], tokens: new Set() }));
    return w;
  };

  const decide = (w: OpenWindow<T>, out: StageOutput<PseudoLabelOutput<T>>) => {
    open.delete(w.start);
    const paused = pauseOnDrift && verdicts.get(w.start) === true;
    verdicts.delete(w.start);
    const accepted: Candidate<T>[] = [];
    const perClass = classPrior.map(() => 0);
    let rejectedCap = 0;
    if (!paused) {
      const confidentTotal = w.candidates.length;
      for (let c = 0; c < classPrior.length; c++) {
        const ofClass = w.candidates.filter((x) => x.prediction.label === c);
        // Most confident first; ties by record id, so the choice is the same on every replay.
        ofClass.sort((a, b) => b.prediction.confidence - a.prediction.confidence || (a.prediction.record_id < b.prediction.record_id ? -1 : 1));
        const cap = Math.ceil(classPrior[c]! * confidentTotal);
        accepted.push(...ofClass.slice(0, cap));
        perClass[c] = Math.min(cap, ofClass.length);
        rejectedCap += Math.max(0, ofClass.length - cap);
      }
      // Labels outside the prior's classes cannot be capped sensibly: refuse them.
      rejectedCap += w.candidates.filter((x) => x.prediction.label < 0 || x.prediction.label >= classPrior.length).length;
    }
    const summary: PseudoLabelWindow = {
      kind: 'window',
      pipeline: options.pipeline,
      windowStart: w.start,
      windowEnd: w.start + size,
      predictions: w.predictions,
      confident: w.candidates.length,
      accepted: accepted.length,
      acceptedPerClass: perClass,
      rejectedClassCap: rejectedCap,
      rejectedDriftPause: paused ? w.candidates.length : 0,
      rejectedOwnModel: w.ownModel,
      acceptRate: w.predictions === 0 ? 0 : accepted.length / w.predictions,
      alarm: !paused && accepted.length === 0 && w.predictions >= minForAlarm,
      paused,
    };
    if (summary.alarm) onAlarm(summary);
    const tokens = [...w.tokens];
    const availableAt = w.start + size + lateness;
    const labels = accepted.map((x): PseudoLabel<T> => ({ kind: 'label', value: x.record.value, recordId: x.prediction.record_id, label: x.prediction.label, confidence: x.prediction.confidence, sourceModelId: x.prediction.model_id, sourceModelVersion: x.prediction.model_version, windowStart: w.start, availableAt }));
    decidedLabels.push(...labels);
    const records: StreamRecord<PseudoLabelOutput<T>>[] = accepted.map((x, i) => ({ ...x.record, value: labels[i]! }));
    const last = w.candidates[w.candidates.length - 1]?.record;
    records.push({ key: null, value: summary, eventTime: w.start + size - 1, headers: {}, position: last?.position ?? { topic: '', partition: 0, offset: 0 } });
    out.emit({ records, tokens });
  };

  /** Windows whose end event time has passed and whose drift verdict is in (or not needed), oldest first. */
  const decideReady = (out: StageOutput<PseudoLabelOutput<T>>, all = false) => {
    const ready = [...open.values()].filter((w) => all || (w.start + size <= watermark && (!pauseOnDrift || verdicts.has(w.start) || latestVerdict > w.start)));
    ready.sort((a, b) => a.start - b.start);
    for (const w of ready) decide(w, out);
  };

  return {
    name,
    onBatch(batch: Batch<PseudoLabelInput<T>>, out) {
      for (const record of batch.records) {
        const input = record.value;
        if ('drift' in input) {
          verdicts.set(input.drift.windowStart, input.drift.datasetDrift);
          if (input.drift.windowStart > latestVerdict) latestVerdict = input.drift.windowStart;
          continue;
        }
        const t = record.eventTime;
        const start = Math.floor(t / size) * size;
        if (start + size <= watermark) continue; // its window was decided already: too late to count
        const w = windowOf(start);
        w.predictions++;
        const prediction = options.prediction(input.prediction);
        if (prediction.model_id === targetModelId) w.ownModel++;
        else if (prediction.confidence > threshold) {
          w.candidates.push({ record: { ...record, value: input.prediction }, prediction });
          for (const token of batch.tokens) {
            if (!w.tokens.has(token)) {
              token.retain();
              w.tokens.add(token);
            }
          }
        }
        watermark = clock.observe(record);
        seen = watermark + lateness;
      }
      releaseAll(batch.tokens);
      decideReady(out);
      reportProgress(decidedBefore());
    },
    onEnd(out) {
      decideReady(out, true);
      reportProgress(Infinity);
    },
    onRevoke() {
      // Windows span partitions (one pseudo-label rate per window): keep them, as a stream-scoped window does.
    },
  };
}
