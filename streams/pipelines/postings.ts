import { readHn2026TruthFiles } from '../../connectors/labels/hn-2026-truth.ts';
import { decodeLabel, encodeLabel } from '../../connectors/labels/label-format.ts';
import type { Label } from '../../schemas/label.ts';
import {
  isPostingsFile,
  rawPostingFromMessage,
  readPostingsMessages,
} from '../../connectors/postings/postings-messages.ts';
import type { Message } from '../kernel/transport/transport.ts';
import { FineTuneWorker } from '../../models/continual/fine-tune-client.ts';
import { ModelBTrainer } from '../../models/continual/model-b-trainer.ts';
import type { TimedExample } from '../../models/continual/event-time-feed.ts';
import type { TrainingExample } from '../../models/continual/training-example.ts';
import { InferencePool } from '../../models/infer/worker-pool.ts';
import { loadHeldOut } from '../../models/held-out-store.ts';
import { postingModelFeatures, type ScoredPosting } from '../../models/postings/drift-features.ts';
import { featurizeSparse, FEATURE_DIM } from '../../models/postings/features.ts';
import {
  preparedFeatures,
  preparedKeywords,
  preparePosting,
  rememberPrepared,
} from '../../models/postings/prepare-posting.ts';
import { CLASSES } from '../../models/postings/train.ts';
import type { ModelRegistry } from '../../models/registry/registry.ts';
import { conformsTo } from '../../operators/basic/conforms-to.ts';
import { compareModels, modelComparisonRow } from '../../operators/compare/compare-models.ts';
import { estimateAlertRows } from '../../operators/compare/estimate-alert-rows.ts';
import { driftAlertRows, driftMetricRows, keywordSkewRows } from '../../operators/drift/drift-rows.ts';
import { driftWindow } from '../../operators/drift/drift-window.ts';
import { loadReferenceProfile, type ReferenceProfile } from '../../operators/drift/reference-profile.ts';
import {
  infer,
  type Inferred,
  type InferStage,
  registryResolver,
  type SparseRow,
} from '../../operators/infer/infer.ts';
import { type JobPosting, postedAt } from '../../operators/normalize/index.ts';
import { pseudoLabel, type PseudoLabel, type PseudoLabelWindow } from '../../operators/pseudo-label/pseudo-label.ts';
import { pseudoLabelRow, pseudoLabelWindowRow } from '../../operators/pseudo-label/pseudo-label-rows.ts';
import { postingKey } from '../../operators/uncertainty/near-duplicate.ts';
import { labelQueueRow } from '../../operators/uncertainty/label-queue-row.ts';
import { uncertaintySample } from '../../operators/uncertainty/uncertainty-sample.ts';
import { tumbling } from '../kernel/operators/window/window-spec.ts';
import { Pipeline, type Stream } from '../kernel/pipeline.ts';
import { pipelineDeadLetters } from './dead-letters.ts';
import { humanExamples } from './human-examples.ts';
import { ModelCalibrations } from './model-calibrations.ts';
import { labelRow } from './labels.ts';
import {
  type FileReadOptions,
  type PipelineContext,
  type PipelineDefinition,
  topicName,
} from './pipeline-definition.ts';
import { type PostingsOptions, postingsOptionRules } from './postings-options.ts';
import { predictionRow } from './prediction-rows.ts';
import { trainingBarrier, type TrainingBarrierStats } from './training-barrier.ts';

const DAY = 86_400_000;
/** Set on label messages that travel with the postings (files: `classified.json`); the labels topic needs none. */
const LABEL_HEADER = 'driftline.record';

/** The `postings` warehouse row; `version` lets a re-scraped posting replace the older copy. */
export const postingRow = (p: JobPosting, version: number) => ({ ...p, version });

const isClassified = (file: string) => /(^|[\\/])classified\.json$/.test(file);

/** Postings files, then the HN 2026 ground truth (`classified.json`) as label messages stamped with their run date. */
async function* readPostingsAndTruth(
  files: string[],
  _options?: unknown,
  fileOptions: FileReadOptions = {},
): AsyncGenerator<Message[]> {
  yield* readPostingsMessages(
    files.filter((f) => !isClassified(f)),
    { csvMap: fileOptions.csvMap, postedAt },
  );
  const truth = await readHn2026TruthFiles(files.filter(isClassified));
  if (truth.length > 0)
    yield truth.map((l) => ({ ...encodeLabel(l), timestamp: l.labeled_at, headers: { [LABEL_HEADER]: 'label' } }));
}

/**
 * postings (scraper JSON, CSV, HN) ─┬─ parse → normalize → schema → human-examples ─┬→ labels → warehouse.labels
 * labels (topic, classified.json)  ─┘   (one stream, in source order)              └→ postings → key by id → event time
 *                                                                                     → warehouse.postings
 *
 *   postings → infer A ─┬→ drift-window (vs A's reference) → drift_metrics, drift_alerts, keyword_skew
 *                       ├→ pseudo-label (A; paused by dataset drift) → pseudo_labels, pseudo_label_windows
 *                       └→ [training barrier] → infer B ─┬→ warehouse.predictions (A and B)
 *                                                        ├→ uncertainty-sample (B) → label_queue
 *                                                        └→ compare-models (A vs B, with labels) → model_comparison
 *   pseudo-labels + human labels (joined to their text by human-examples) → Model B trainer (fine-tunes in a worker)
 *
 * Model B's versions: in a replay (and with `trainingClock: "event-time"`) a fine-tune is triggered at an event time,
 * the training barrier holds the stream until it is decided, and its version scores the records after that time, so
 * two replays give the same rows however fast training ran. A live run swaps B in when a fine-tune finishes (wall
 * clock) and records when the swap took effect. See models/continual/README.md.
 *
 * The ML branch runs when Model A (`postings-a`) is registered (`driftline models train postings`); otherwise the
 * pipeline normalizes and stores postings and labels only, and says so. Options (--config): postings-options.ts.
 */
export const postingsPipeline: PipelineDefinition<PostingsOptions> = {
  name: 'postings',
  description:
    'Job postings → normalize → Model A and B → labelling queue, drift, pseudo-labels, A vs B, Model B training',
  inputTopic: 'postings',
  extraTopics: ['labels'],
  // One partition: the ML stages keep stream-wide windows (one drift verdict, one labelling budget per month)
  // under one consumer anyway, and one partition gives them one total order, so a live run, a replay and either
  // transport close the same windows. Inference, the costly part, runs on worker threads whatever the count.
  partitions: 1,
  options: postingsOptionRules,
  acceptsFile: (f) => isPostingsFile(f) || isClassified(f),
  read: readPostingsAndTruth,
  build(source, context) {
    const labelsTopic = topicName(context, 'labels');
    const p = new Pipeline('postings').deadLetters(pipelineDeadLetters(context, 'postings'));
    const ml = postingsModels(context);
    const calibrations = ml ? new ModelCalibrations(ml.registry) : undefined;
    const { options } = context;
    const learning = ml && options.train !== false ? modelBLearning(p, context, ml, calibrations!) : undefined;

    // Postings and labels stay one stream until human-examples has joined them, so it sees them in source order.
    const parsed = p
      .from(source)
      .map(
        'parse',
        (bytes, r): Parsed =>
          r.position.topic === labelsTopic || r.headers[LABEL_HEADER] === 'label'
            ? { label: decodeLabel(bytes, { classes: CLASSES, now: r.eventTime }) }
            : { raw: rawPostingFromMessage(bytes, r.headers) },
      )
      // normalize, featurize and the drift keywords from one tokenization; infer and drift-window reuse them
      .map(
        'normalize',
        (v): PostingOrLabelItem => ('raw' in v ? { posting: rememberPrepared(preparePosting(v.raw)) } : v),
      )
      .through(conformsTo<PostingOrLabelItem>('schema', 'JobPosting', (v) => ('posting' in v ? v.posting : undefined)));
    const joined = learning
      ? parsed.through(humanExamples<PostingOrLabelItem>('human-examples', learning.humanExamples))
      : parsed;
    const [labelItems, postingItems] = joined.branch('by-kind', (v) => 'label' in v);
    const labels = labelItems!.map('label', (v) => (v as { label: Label }).label);
    labels.to(context.warehouse.sink<Label>('labels', (r) => labelRow(r.value, Date.now())));
    const postings = postingItems!
      .map('posting', (v) => (v as { posting: JobPosting }).posting)
      .keyBy('by-id', (posting) => posting.id)
      .eventTime('posted', (posting, r) => posting.posted_at ?? r.eventTime);
    postings.to(context.warehouse.sink<JobPosting>('postings', (r) => postingRow(r.value, r.eventTime)));

    if (!ml) {
      process.stderr.write(
        'postings: no model registered (driftline models train postings): normalizing only, no inference\n',
      );
      return p;
    }
    const runId = context.runId ?? 'run';
    const windowDays = options.windowDays ?? 30;
    const { registry, modelA, modelB } = ml;
    process.stderr.write(`postings: ${modelsInUse(registry, modelA, modelB)}\n`);
    const ctx: MlBranch = {
      p,
      context,
      ml,
      runId,
      window: tumbling(windowDays * DAY),
      // Scrape runs and files are not in posting-time order: a posting may come this much after newer ones and count.
      allowedLatenessMs: (options.latenessDays ?? windowDays) * DAY,
    };
    const { scoredA, scored, predictA, predictB, pool } = scoreAandB(ctx, postings, learning);
    labellingQueue(ctx, scored);
    const drift = driftOfA(ctx, scoredA);
    pseudoLabels(ctx, scoredA, drift, learning);
    compareAandB(ctx, scored, labels, calibrations!);

    if (!learning) registerModelBFromA(registry, modelA, modelB);
    else learning.start();
    // Estimated accuracy needs each scoring version's calibration before its first window closes.
    p.onStart(async () => {
      await calibrations!.load(modelA.id, modelA.version);
      for (const b of new Set([registry.list(modelB)[0]!.version, registry.get(modelB).version]))
        await calibrations!.load(modelB, b);
    });
    // after the trainer's closer: a fine-tune finishing at the end may still swap
    p.onClose(() => Promise.all([predictA.close(), predictB.close()]).then(() => pool.close()));
    return p;
  },
};

/** What every stage of the ML branch shares: the pipeline, its context, the models, the run and the windows. */
interface MlBranch {
  p: Pipeline;
  context: PipelineContext<PostingsOptions>;
  ml: PostingsModels;
  runId: string;
  window: ReturnType<typeof tumbling>;
  allowedLatenessMs: number;
}

type PostingsModels = NonNullable<ReturnType<typeof postingsModels>>;
type Learning = ReturnType<typeof modelBLearning> | undefined;

/**
 * Model A, then Model B, on one pool of inference threads: B may have to wait at a training barrier, and the stages
 * that teach B (drift, pseudo-label) must not wait with it. Both predictions go to the warehouse.
 */
function scoreAandB(ctx: MlBranch, postings: Stream<JobPosting>, learning: Learning) {
  const { p, context, ml } = ctx;
  const { registry, modelA, modelB } = ml;
  const pool = new InferencePool({ threads: 1, intraOpNumThreads: 1 });
  const rows = new WeakMap<JobPosting, SparseRow>(); // B reuses the feature row A was given
  const featuresOf = (posting: JobPosting) => rows.get(posting) ?? featurizeSparse(posting);
  const predictA = infer<JobPosting>('infer-a', {
    models: [{ id: modelA.id, version: modelA.version }],
    toInput: (posting) => {
      // a few hundred nonzeros of 16k: no dense row per posting; normalize made it already
      const row = preparedFeatures(posting) ?? featurizeSparse(posting);
      rows.set(posting, row);
      return row;
    },
    featureShape: [FEATURE_DIM],
    resolveModel: registryResolver(registry),
    pool,
  });
  const scoredA = postings.through(predictA);
  const trainer = learning?.trainer;
  const eventTime = trainer?.clock === 'event-time';
  const barrier = eventTime ? trainingBarrier<Inferred<JobPosting>>('training-barrier', trainer!) : undefined;
  const toB = barrier ? scoredA.through(barrier) : scoredA;
  if (barrier) p.onClose(() => void process.stderr.write(`postings: ${describeTraining(trainer!, barrier.stats())}\n`));
  const predictB = infer<Inferred<JobPosting>>('infer-b', {
    models: [{ id: modelB }],
    toInput: (v) => featuresOf(v.input),
    featureShape: [FEATURE_DIM],
    resolveModel: registryResolver(registry),
    pool,
    versionAt: eventTime ? (_, t) => trainer!.versionAt(t) : undefined,
    onVersionInForce: eventTime ? undefined : swapTakesEffect(registry),
  });
  learning?.swapTo(predictB);
  const scored = toB.through(predictB).map(
    'a-and-b',
    (v): Inferred<JobPosting> => ({
      input: v.input.input,
      predictions: [...v.input.predictions, ...v.predictions],
    }),
  );
  scored
    .flatMap('prediction-rows', (v, r) => v.predictions.map((x) => predictionRow(x, r.eventTime)))
    .to(context.warehouse.sink('predictions', (r) => r.value));
  return { scoredA, scored, predictA, predictB, pool };
}

/** Labelling queue: where Model B is least sure (B is the model labels train). */
function labellingQueue(ctx: MlBranch, scored: Stream<Inferred<JobPosting>>): void {
  scored
    .through(
      uncertaintySample<Inferred<JobPosting>>('uncertainty-sample', {
        pipeline: 'postings',
        prediction: (v) => v.predictions[1]!,
        window: ctx.window,
        allowedLatenessMs: ctx.allowedLatenessMs,
        budget: ctx.context.options.labelBudget ?? 20,
        dedupKey: (v) => postingKey(v.input),
      }),
    )
    .to(ctx.context.warehouse.sink('label_queue', (r) => labelQueueRow(r.value)));
}

/** Drift of the data Model A sees, against the data it learned from: metrics, alerts and keyword skew. */
function driftOfA(ctx: MlBranch, scoredA: Stream<Inferred<JobPosting>>) {
  const { context, runId } = ctx;
  const drift = scoredA
    .map(
      'as-scored',
      (v): ScoredPosting => ({
        title: v.input.title,
        description: v.input.description,
        label: v.predictions[0]!.label,
        confidence: v.predictions[0]!.confidence,
        keywords: preparedKeywords(v.input),
      }),
    )
    .through(
      driftWindow('drift-window', {
        pipeline: 'postings',
        ...driftReference(context.options, ctx.ml.modelA.profile),
        features: postingModelFeatures,
        window: ctx.window,
        allowedLatenessMs: ctx.allowedLatenessMs,
        minWindowSize: context.options.minWindowSize ?? 100,
        warn: () => {},
      }),
    );
  drift
    .flatMap('drift-metric-rows', (r) => driftMetricRows(r, runId))
    .to(context.warehouse.sink('drift_metrics', (r) => r.value));
  drift
    .flatMap('drift-alert-rows', (r) => driftAlertRows(r, runId))
    .to(context.warehouse.sink('drift_alerts', (r) => r.value));
  drift
    .flatMap('keyword-rows', (r) => keywordSkewRows(r, runId))
    .to(context.warehouse.sink('keyword_skew', (r) => r.value));
  return drift;
}

/** Pseudo-labels from confident A predictions, paused while the drift-window reports dataset drift. */
function pseudoLabels(
  ctx: MlBranch,
  scoredA: Stream<Inferred<JobPosting>>,
  drift: ReturnType<typeof driftOfA>,
  learning: Learning,
): void {
  const { context, runId, ml } = ctx;
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
        window: ctx.window,
        allowedLatenessMs: ctx.allowedLatenessMs,
        threshold: context.options.pseudoThreshold ?? 0.9,
        onProgress: learning?.pseudoLabels,
      }),
    );
  pseudo
    .filter('accepted', (v) => v.kind === 'label')
    .map('label-of', (v) => v as PseudoLabel<Inferred<JobPosting>>)
    .to(context.warehouse.sink('pseudo_labels', (r) => pseudoLabelRow(r.value, 'postings')));
  pseudo
    .filter('windows', (v) => v.kind === 'window')
    .to(
      context.warehouse.sink('pseudo_label_windows', (r) => pseudoLabelWindowRow(r.value as PseudoLabelWindow, runId)),
    );
}

/**
 * A vs B per window; labels join by record id however late they come. Accuracy is also estimated from each model's
 * calibrated confidence (CBPE), so a drop is an alert before any label arrives.
 */
function compareAandB(
  ctx: MlBranch,
  scored: Stream<Inferred<JobPosting>>,
  labels: Stream<Label>,
  calibrations: ModelCalibrations,
): void {
  const { context, runId, ml } = ctx;
  const comparisons = scored.merge('with-labels', labels).through(
    compareModels<Inferred<JobPosting>>('compare-a-b', {
      pipeline: 'postings',
      modelA: ml.modelA.id,
      modelB: ml.modelB,
      window: ctx.window,
      allowedLatenessMs: ctx.allowedLatenessMs,
      estimate: { calibrationFor: calibrations.calibrationFor },
    }),
  );
  comparisons.to(context.warehouse.sink('model_comparison', (r) => modelComparisonRow(r.value, runId)));
  comparisons
    .flatMap('estimate-alert-rows', (c) => estimateAlertRows(c, runId))
    .to(context.warehouse.sink('drift_alerts', (r) => r.value, { name: 'accuracy-alerts' }));
}

/** One line on Model B's event-time training: fine-tunes, promotions, and how long the barrier held the stream. */
function describeTraining(trainer: ModelBTrainer, barrier: TrainingBarrierStats): string {
  const { runs, promoted } = trainer.stats();
  return (
    `Model B trained in event time: ${runs} fine-tunes, ${promoted} promoted; the training barrier held the ` +
    `stream ${(barrier.trainingWaitMs / 1000).toFixed(1)} s in ${barrier.trainingWaits} waits`
  );
}

/** A message of the postings stream once parsed: a posting's raw fields or a decoded label. */
type Parsed = { raw: ReturnType<typeof rawPostingFromMessage> } | { label: Label };
type PostingOrLabelItem = { posting: JobPosting } | { label: Label };

/** Wall-clock runs: records, in the registry, the event time at which a hot-swapped version scored its first record. */
function swapTakesEffect(registry: ModelRegistry) {
  const started = new Set<string>();
  return (id: string, version: string, eventTime: number) => {
    if (!started.has(id))
      started.add(id); // the version the run started with took effect earlier
    else registry.setInForceFrom(id, version, eventTime);
  };
}

/** What every run says before scoring: the Model A and B versions it uses, and which manifest they come from. */
function modelsInUse(registry: ModelRegistry, modelA: { id: string; version: string }, modelB: string): string {
  const a = registry.get(modelA.id, modelA.version);
  const accuracy = a.metrics.accuracy === undefined ? '' : `, held-out accuracy ${a.metrics.accuracy.toFixed(3)}`;
  const b = registry.list(modelB).length > 0 ? registry.get(modelB) : undefined;
  const bText = b ? `${b.id}@${b.version} (${b.stage})` : `${modelB}: none yet, starts as a copy of A`;
  return (
    `Model A ${a.id}@${a.version} (${a.stage}, trained ${a.created_at.slice(0, 16)}, ` +
    `dataset ${a.dataset_hash.slice(0, 12)}${accuracy}); Model B ${bText}; manifest ${registry.manifestPath}`
  );
}

/** The line a promotion of Model B prints: which version, and the holdout figures it won on. */
function promotionLine(b: {
  id: string;
  version: string;
  parent: string | null;
  metrics: Record<string, number>;
}): string {
  const figure = (name: string) => (b.metrics[name] === undefined ? '?' : b.metrics[name]!.toFixed(3));
  return (
    `promoted Model B ${b.id}@${b.version} to production: holdout accuracy ${figure('holdout_accuracy')} ` +
    `vs ${figure('parent_holdout_accuracy')} for ${b.parent ?? 'its parent'} ` +
    `and ${figure('model_a_holdout_accuracy')} for Model A, on ${b.metrics.holdout_rows ?? '?'} recent labels`
  );
}

/**
 * Model A (pinned: production, else latest), its reference profile and labelled class prior; B's id. Null without A.
 */
function postingsModels(context: PipelineContext<PostingsOptions>) {
  const registry = context.models;
  const idA = context.options.modelA ?? 'postings-a';
  if (registry.list(idA).length === 0) return null;
  const entry = registry.get(idA);
  const file = registry.path(entry);
  const labels = loadHeldOut(file, 'held-out').labels;
  const prior = CLASSES.map((_, c) => labels.filter((l) => l === c).length / labels.length);
  return {
    registry,
    modelA: { id: idA, version: entry.version, profile: loadReferenceProfile(file), prior },
    modelB: context.options.modelB ?? 'postings-b',
  };
}

/**
 * With training off, Model B still runs beside A: when it has no version yet, its first one is a copy of A, as the
 * trainer registers it when it starts (so a later run with training on continues from the same B).
 */
function registerModelBFromA(registry: ModelRegistry, modelA: { id: string; version: string }, modelB: string): void {
  if (registry.list(modelB).length > 0) return;
  const a = registry.get(modelA.id, modelA.version);
  const { bytes } = registry.readModel(a.id, a.version);
  registry.register({
    id: modelB,
    kind: a.kind,
    onnx: bytes,
    parent: `${a.id}@${a.version}`,
    datasetHash: a.dataset_hash,
    configHash: a.config_hash,
    metrics: { ...a.metrics },
    stage: 'production',
  });
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

/**
 * Model B's learning in this pipeline: the trainer, what feeds it (human labels joined to their text, accepted
 * pseudo-labels) and how its versions reach infer B — by event time (replays, `trainingClock: "event-time"`: the
 * trainer's timeline, behind the training barrier) or by a hot swap when a fine-tune finishes (live runs).
 */
function modelBLearning(
  p: Pipeline,
  context: PipelineContext<PostingsOptions>,
  ml: NonNullable<ReturnType<typeof postingsModels>>,
  calibrations: ModelCalibrations,
) {
  const clock = context.options.trainingClock ?? (context.replay ? 'event-time' : 'wall');
  const runsSink = context.warehouse.sink<Record<string, unknown>>('training_runs', (r) => r.value);
  const runWrites: Promise<void>[] = [];
  let inferB: InferStage<unknown> | undefined;
  const trainer = new ModelBTrainer({
    registry: ml.registry,
    modelA: { id: ml.modelA.id, version: ml.modelA.version },
    modelB: ml.modelB,
    runId: context.runId ?? 'run',
    triggers: { everyNewLabels: context.options.retrainEvery ?? 200 },
    worker: new FineTuneWorker({ delayMs: context.settings.fineTuneDelayMs }),
    clock,
    producers: ['human', 'pseudo'],
    // calibrated before the version scores anything (estimated accuracy); in wall-clock runs, then swapped in
    onPromote: async (version) => {
      process.stderr.write(`postings: ${promotionLine(ml.registry.get(ml.modelB, version))}\n`);
      await calibrations.load(ml.modelB, version);
      if (clock === 'wall') await inferB?.swap(ml.modelB, version);
    },
    onRun: (row) =>
      runWrites.push(
        runsSink.write([
          {
            key: null,
            value: row,
            eventTime: 0,
            headers: {},
            position: { topic: 'training_runs', partition: 0, offset: runWrites.length },
          },
        ]),
      ),
  });
  const pseudoExample = (l: PseudoLabel<Inferred<JobPosting>>): TrainingExample => ({
    record_id: l.recordId,
    text: { title: l.value.input.title, description: l.value.input.description },
    label: l.label,
    source: 'pseudo',
    source_model: `${l.sourceModelId}@${l.sourceModelVersion}`,
    event_time: l.windowStart,
  });
  return {
    trainer,
    humanExamples(examples: TimedExample[], upTo: number) {
      if (clock === 'event-time') trainer.feed('human', examples, upTo);
      else if (examples.length > 0) trainer.addAll(examples.map((e) => e.example));
    },
    pseudoLabels(labels: PseudoLabel<Inferred<JobPosting>>[], upTo: number) {
      if (clock === 'event-time')
        trainer.feed(
          'pseudo',
          labels.map((l) => ({ example: pseudoExample(l), availableAt: l.availableAt })),
          upTo,
        );
      else if (labels.length > 0) trainer.addAll(labels.map(pseudoExample));
    },
    swapTo(stage: InferStage<Inferred<JobPosting>>) {
      inferB = stage as InferStage<unknown>;
    },
    start() {
      trainer.start();
      p.onClose(async () => {
        await trainer.close(); // finishes a fine-tune in progress, so its run is recorded
        await Promise.all(runWrites);
        await runsSink.close?.();
      });
    },
  };
}
