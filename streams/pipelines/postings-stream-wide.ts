import type { Label } from '../../schemas/label.ts';
import { postingModelFeatures, type ScoredPosting } from '../../models/postings/drift-features.ts';
import { preparedKeywords } from '../../models/postings/prepare-posting.ts';
import { compareModels, modelComparisonRow } from '../../operators/compare/compare-models.ts';
import { estimateAlertRows } from '../../operators/compare/estimate-alert-rows.ts';
import { driftAlertRows, driftMetricRows, keywordSkewRows } from '../../operators/drift/drift-rows.ts';
import { driftWindow } from '../../operators/drift/drift-window.ts';
import type { ReferenceProfile } from '../../operators/drift/reference-profile.ts';
import type { Inferred } from '../../operators/infer/infer.ts';
import type { JobPosting } from '../../operators/normalize/index.ts';
import { pseudoLabel, type PseudoLabel, type PseudoLabelWindow } from '../../operators/pseudo-label/pseudo-label.ts';
import { pseudoLabelRow, pseudoLabelWindowRow } from '../../operators/pseudo-label/pseudo-label-rows.ts';
import { labelQueueRow } from '../../operators/uncertainty/label-queue-row.ts';
import { postingKey } from '../../operators/uncertainty/near-duplicate.ts';
import { uncertaintySample } from '../../operators/uncertainty/uncertainty-sample.ts';
import { tumbling } from '../kernel/operators/window/window-spec.ts';
import type { Stream } from '../kernel/pipeline.ts';
import type { ModelCalibrations } from './model-calibrations.ts';
import type { PipelineContext } from './pipeline-definition.ts';
import type { PostingsOptions } from './postings-options.ts';

const DAY = 86_400_000;

/** Postings scored by Model A (before the training barrier) and by A and B, and the labels. */
export interface PostingsScored {
  scoredA: Stream<Inferred<JobPosting>>;
  scored: Stream<Inferred<JobPosting>>;
  labels: Stream<Label>;
}

/** What the stream-wide stages need besides their streams. */
export interface StreamWideSetup {
  context: PipelineContext<PostingsOptions>;
  ml: {
    modelA: { id: string; profile: ReferenceProfile; prior: number[] };
    modelB: string;
  };
  calibrations: ModelCalibrations;
  /** Accepted pseudo-labels go to Model B's trainer, when it learns. */
  learning?: { pseudoLabels(labels: PseudoLabel<Inferred<JobPosting>>[], upTo: number): void };
}

interface Windows {
  window: ReturnType<typeof tumbling>;
  allowedLatenessMs: number;
  runId: string;
}

/**
 * The stages that see the whole stream, one window per month over every partition: the labelling queue, drift,
 * pseudo-labels and A vs B. In a scaled-out run they sit behind the repartition topic (postings-scaled.ts); their
 * windows close on the slowest input partition's clock, and their rows do not depend on arrival order within a window.
 */
export function postingsStreamWide(streams: PostingsScored, setup: StreamWideSetup): void {
  const { options } = setup.context;
  const windowDays = options.windowDays ?? 30;
  const windows: Windows = {
    window: tumbling(windowDays * DAY),
    // Scrape runs and files are not in posting-time order: a posting may come this much after newer ones and count.
    allowedLatenessMs: (options.latenessDays ?? windowDays) * DAY,
    runId: setup.context.runId ?? 'run',
  };
  labellingQueue(streams.scored, setup, windows);
  const drift = driftStages(streams.scoredA, setup, windows);
  pseudoLabels(streams.scoredA, drift, setup, windows);
  comparison(streams.scored, streams.labels, setup, windows);
}

/** Labelling queue: where Model B is least sure (B is the model labels train). */
function labellingQueue(scored: Stream<Inferred<JobPosting>>, setup: StreamWideSetup, w: Windows): void {
  const { context } = setup;
  scored
    .through(
      uncertaintySample<Inferred<JobPosting>>('uncertainty-sample', {
        pipeline: 'postings',
        prediction: (v) => v.predictions[1]!,
        window: w.window,
        allowedLatenessMs: w.allowedLatenessMs,
        budget: context.options.labelBudget ?? 20,
        dedupKey: (v) => postingKey(v.input),
      }),
    )
    .to(context.warehouse.sink('label_queue', (r) => labelQueueRow(r.value)));
}

/** Drift of the data Model A sees, against the data it learned from. */
function driftStages(scoredA: Stream<Inferred<JobPosting>>, setup: StreamWideSetup, w: Windows) {
  const { context, ml } = setup;
  const { options } = context;
  const drift = scoredA
    .map(
      'as-scored',
      (v): ScoredPosting => ({
        title: v.input.title,
        description: v.input.description,
        label: v.predictions[0]!.label,
        confidence: v.predictions[0]!.confidence,
        keywords: preparedKeywords(v.input), // undefined after a repartition: drift-window tokenizes again
      }),
    )
    .through(
      driftWindow('drift-window', {
        pipeline: 'postings',
        ...driftReference(options, ml.modelA.profile),
        features: postingModelFeatures,
        window: w.window,
        allowedLatenessMs: w.allowedLatenessMs,
        minWindowSize: options.minWindowSize ?? 100,
        warn: () => {},
      }),
    );
  drift
    .flatMap('drift-metric-rows', (r) => driftMetricRows(r, w.runId))
    .to(context.warehouse.sink('drift_metrics', (r) => r.value));
  drift
    .flatMap('drift-alert-rows', (r) => driftAlertRows(r, w.runId))
    .to(context.warehouse.sink('drift_alerts', (r) => r.value));
  drift
    .flatMap('keyword-rows', (r) => keywordSkewRows(r, w.runId))
    .to(context.warehouse.sink('keyword_skew', (r) => r.value));
  return drift;
}

/** Pseudo-labels from confident A predictions, paused while the drift-window reports dataset drift. */
function pseudoLabels(
  scoredA: Stream<Inferred<JobPosting>>,
  drift: ReturnType<typeof driftStages>,
  setup: StreamWideSetup,
  w: Windows,
): void {
  const { context, ml } = setup;
  const verdicts = drift
    .filter('window-reports', (r) => r.kind === 'window')
    .map('verdict', (r) => ({ drift: { windowStart: r.windowStart, datasetDrift: r.datasetDrift } }));
  const pseudo = scoredA
    .map('as-candidate', (v) => ({ prediction: v }))
    .merge('with-verdicts', verdicts)
    .through(
      pseudoLabel<Inferred<JobPosting>>('pseudo-label', {
        pipeline: 'postings',
        prediction: (v) => v.predictions[0]!,
        targetModelId: ml.modelB,
        classPrior: ml.modelA.prior,
        window: w.window,
        allowedLatenessMs: w.allowedLatenessMs,
        threshold: context.options.pseudoThreshold ?? 0.9,
        onProgress: setup.learning?.pseudoLabels,
      }),
    );
  const accepted = pseudo
    .filter('accepted', (v) => v.kind === 'label')
    .map('label-of', (v) => v as PseudoLabel<Inferred<JobPosting>>);
  accepted.to(context.warehouse.sink('pseudo_labels', (r) => pseudoLabelRow(r.value, 'postings')));
  pseudo
    .filter('windows', (v) => v.kind === 'window')
    .to(
      context.warehouse.sink('pseudo_label_windows', (r) =>
        pseudoLabelWindowRow(r.value as PseudoLabelWindow, w.runId),
      ),
    );
}

/**
 * A vs B per window; labels join by record id however late they come. Accuracy is also estimated from each model's
 * calibrated confidence (CBPE), so a drop is an alert before any label arrives.
 */
function comparison(
  scored: Stream<Inferred<JobPosting>>,
  labels: Stream<Label>,
  setup: StreamWideSetup,
  w: Windows,
): void {
  const { context, ml } = setup;
  const comparisons = scored.merge('with-labels', labels).through(
    compareModels<Inferred<JobPosting>>('compare-a-b', {
      pipeline: 'postings',
      modelA: ml.modelA.id,
      modelB: ml.modelB,
      window: w.window,
      allowedLatenessMs: w.allowedLatenessMs,
      estimate: { calibrationFor: setup.calibrations.calibrationFor },
    }),
  );
  comparisons.to(context.warehouse.sink('model_comparison', (r) => modelComparisonRow(r.value, w.runId)));
  comparisons
    .flatMap('estimate-alert-rows', (c) => estimateAlertRows(c, w.runId))
    .to(context.warehouse.sink('drift_alerts', (r) => r.value, { name: 'accuracy-alerts' }));
}

/**
 * What drift is measured against: Model A's reference profile (its held-out training data, the default), or with
 * `driftReference: "warm-up"` the stream's own first `warmUpRecords` postings (default 5,000) — for a replay whose
 * early years are the "before" (HN 2013–2018) when A was trained on another source (Glassdoor).
 */
function driftReference(options: PostingsOptions, profile: ReferenceProfile) {
  if (options.driftReference === 'warm-up') return { warmUpReference: { records: options.warmUpRecords ?? 5000 } };
  return { reference: profile };
}
