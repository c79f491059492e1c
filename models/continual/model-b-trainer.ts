/**
 * Continuous training of Model B (README.md beside this file). The trainer holds the labelled examples and the
 * human-labelled holdout, decides when to fine-tune (trigger-policy.ts), and runs one fine-tune at a time:
 *
 *   1. snapshot the examples and the holdout (synchronously, when the trigger fires);
 *   2. in the fine-tune worker: start from the current production B's registered ONNX, fine-tune, export;
 *   3. in the same worker: score the candidate, the current B and the frozen Model A on the holdout (ONNX Runtime);
 *   4. register the candidate with its lineage (parent, dataset hash of its example ids + labels, config hash) and
 *      the holdout figures; promote it only if it beats the current B (promotion.ts), then call `onPromote`
 *      (the pipeline passes the infer stage's swap);
 *   5. hand the run's `training_runs` row to `onRun`.
 *
 * Model A is never trained, registered or promoted here. Model B starts as an exact copy of A: `start()` registers
 * B v1 with A's bytes and `parent = A@version` when B has no version yet, so every B version descends from A.
 */
import { fitCalibration } from '../calibration/calibration.ts';
import { saveCalibration } from '../calibration/calibration-store.ts';
import { configHash as hashConfig } from '../registry/lineage.ts';
import type { ModelEntry, ModelRegistry } from '../registry/registry.ts';
import { PREPROCESSING, type PostingText } from '../postings/features.ts';
import type { Row } from '../../schemas/warehouse-row.ts';
import { EventTimeFeed, type TimedExample } from './event-time-feed.ts';
import { DEFAULT_FINE_TUNE_CONFIG, type FineTuneConfig } from './fine-tune.ts';
import { FineTuneWorker } from './fine-tune-client.ts';
import type { HoldoutScore } from './holdout-evaluation.ts';
import { DEFAULT_HOLDOUT, type HoldoutSpec, isHeldOut } from './holdout-split.ts';
import { promotionDecision } from './promotion.ts';
import { type TrainingExample, exampleProblem, trainingSetHash } from './training-example.ts';
import { type TrainingRun, trainingRunRow } from './training-run.ts';
import { DEFAULT_TRIGGER_POLICY, type TriggerPolicy, type TriggerReason, decideTrigger } from './trigger-policy.ts';
import { VersionTimeline } from './version-timeline.ts';

export interface ModelBTrainerOptions {
  registry: ModelRegistry;
  /** Model A (frozen): pinned here, else its production (or latest) version when `start()` runs. */
  modelA: { id: string; version?: string };
  /** Model B's id. Default `postings-b`. */
  modelB?: string;
  triggers?: Partial<TriggerPolicy>;
  holdout?: Partial<HoldoutSpec>;
  fineTune?: Partial<FineTuneConfig>;
  /** Examples kept for fine-tuning; the oldest are dropped first. Default 20,000. */
  maxExamples?: number;
  /**
   * Called with each promoted version, after the registry promoted it: the pipeline passes
   * `(v) => infer.swap(modelB, v)`.
   */
  onPromote?: (version: string) => Promise<void> | void;
  /** Called after every run with its `training_runs` row (the caller writes it with a warehouse sink). */
  onRun?: (row: Row, run: TrainingRun) => void;
  /** Failures of runs started by triggers. Default: console.error. */
  onError?: (error: unknown) => void;
  /** The `run_id` of the rows. Default `<modelB>-<start time>`. */
  runId?: string;
  /** A worker to use (and close) instead of starting one. */
  worker?: FineTuneWorker;
  /**
   * 'wall' (default): examples count as they are added, a fine-tune starts at once and `onPromote` swaps its version
   * in when it finishes. 'event-time': examples come through `feed` from the named `producers` with the event time
   * they became usable; a fine-tune is triggered at an event time T, and its version, if promoted, scores records
   * after T (`versionAt`), however long training took. B starts from its first version (the copy of A), so every
   * replay retrains the same way. See README.md, "Event time".
   */
  clock?: 'wall' | 'event-time';
  /** The stages that make examples ('event-time'): each reports its progress through `feed`. */
  producers?: readonly string[];
}

/** What `add` did with an example. */
export type AddOutcome =
  /** New training example. */
  | 'accepted'
  /** Replaced the earlier label of the same record (a human label replaces a pseudo one and an older human one). */
  | 'replaced'
  /** A human label of a held-out record: goes to the holdout, never trained on. */
  | 'holdout'
  /** A pseudo-label of a held-out record: dropped. */
  | 'dropped-holdout'
  /** A pseudo-label of a record that already has a human label: dropped. */
  | 'dropped-human-known'
  /** Labelled by Model B itself, or malformed: refused (see `stats().rejections`). */
  | 'rejected';

export interface TrainerStats {
  pseudoExamples: number;
  humanExamples: number;
  holdoutSize: number;
  newLabels: number;
  outcomes: Record<AddOutcome, number>;
  /** Rejection reasons with counts (e.g. "labelled by postings-b@v2: …"). */
  rejections: Record<string, number>;
  running: boolean;
  /** Why a pending trigger has not started a run yet, if one is pending. */
  waiting: string | null;
  runs: number;
  promoted: number;
  /** Event time up to which every example is known ('event-time'; -Infinity until the producers report). */
  frontier: number;
  /** Fine-tunes triggered and not yet decided ('event-time'). */
  queued: number;
}

/** The holdout figures without the per-row arrays the calibration is fitted on. */
const metricsOf = ({ topProbabilities: _top, correct: _correct, ...metrics }: HoldoutScore) => metrics;

const noOutcomes = (): Record<AddOutcome, number> => ({
  accepted: 0,
  replaced: 0,
  holdout: 0,
  'dropped-holdout': 0,
  'dropped-human-known': 0,
  rejected: 0,
});

interface Snapshot {
  trigger: TriggerReason;
  examples: TrainingExample[];
  holdout: TrainingExample[];
  startedAt: number;
  /** The event time the trigger fired at ('event-time'): its training data is everything usable up to then. */
  eventTime?: number;
}

export class ModelBTrainer {
  readonly modelB: string;
  readonly policy: TriggerPolicy;
  readonly holdoutSpec: HoldoutSpec;
  readonly config: FineTuneConfig;
  readonly maxExamples: number;
  readonly runId: string;
  private readonly registry: ModelRegistry;
  private readonly worker: FineTuneWorker;
  private modelA?: ModelEntry;
  /** Training examples by record id, oldest first (a replaced label moves to the end). */
  private readonly examples = new Map<string, TrainingExample>();
  private readonly holdout = new Map<string, TrainingExample>();
  /** Human examples among `examples`. */
  private humanCount = 0;
  private readonly outcomes = noOutcomes();
  private readonly rejections: Record<string, number> = {};
  private newLabels = 0;
  private driftAlert = false;
  private scheduleDue = false;
  private manual = false;
  private waiting: string | null = null;
  private running?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private runs = 0;
  private promotions = 0;
  readonly clock: 'wall' | 'event-time';
  private readonly feedIn?: EventTimeFeed;
  /** Triggered fine-tunes, oldest first ('event-time'): they run one after another, each from the last one's B. */
  private readonly queue: Snapshot[] = [];
  private timeline?: VersionTimeline;
  private readonly waiters: Array<{ ready: () => boolean; resolve: () => void }> = [];

  constructor(private readonly options: ModelBTrainerOptions) {
    this.registry = options.registry;
    this.modelB = options.modelB ?? 'postings-b';
    this.policy = { ...DEFAULT_TRIGGER_POLICY, ...options.triggers };
    this.holdoutSpec = { ...DEFAULT_HOLDOUT, ...options.holdout };
    this.config = { ...DEFAULT_FINE_TUNE_CONFIG, ...options.fineTune };
    this.maxExamples = options.maxExamples ?? 20_000;
    this.runId = options.runId ?? `${this.modelB}-${Date.now()}`;
    this.worker = options.worker ?? new FineTuneWorker();
    if (this.options.modelA.id === this.modelB)
      throw new Error(`Model A and Model B must differ (both ${this.modelB})`);
    this.clock = options.clock ?? 'wall';
    if (this.clock === 'event-time') {
      this.feedIn = new EventTimeFeed(options.producers ?? []);
      if (this.policy.scheduleMs !== null)
        throw new Error(
          'a wall-clock schedule (scheduleMs) cannot trigger fine-tunes in event time: use everyNewLabels',
        );
    }
  }

  /**
   * Pins Model A, registers B v1 as a copy of A when B has no version yet, starts the fine-tune worker process and the
   * schedule (if any).
   */
  start(): void {
    const a = this.registry.get(this.options.modelA.id, this.options.modelA.version);
    if (a.precision !== 'fp32')
      throw new Error(
        `Model B is fine-tuned from fp32 weights: ${a.id}@${a.version} is ${a.precision} (pin an fp32 version of ` +
          `Model A)`,
      );
    this.modelA = a;
    if (this.registry.list(this.modelB).length === 0) {
      const { bytes } = this.registry.readModel(a.id, a.version);
      this.registry.register({
        id: this.modelB,
        kind: a.kind,
        onnx: bytes,
        parent: `${a.id}@${a.version}`,
        datasetHash: a.dataset_hash,
        configHash: a.config_hash,
        metrics: { ...a.metrics },
        stage: 'production',
      });
    }
    this.worker.start();
    if (this.clock === 'event-time') this.timeline ??= new VersionTimeline(this.registry.list(this.modelB)[0]!.version);
    if (this.policy.scheduleMs !== null && this.timer === undefined) {
      this.timer = setInterval(() => {
        this.scheduleDue = true;
        this.check();
      }, this.policy.scheduleMs);
      this.timer.unref();
    }
  }

  /** Adds one labelled example (see AddOutcome); may start a fine-tune. */
  add(example: TrainingExample): AddOutcome {
    this.wallClockOnly('add');
    const outcome = this.place(example);
    this.check();
    return outcome;
  }

  /** Adds examples in order, then decides on a trigger once (a batch of labels starts at most one run). */
  addAll(examples: Iterable<TrainingExample>): Record<AddOutcome, number> {
    this.wallClockOnly('addAll');
    const counts = noOutcomes();
    for (const e of examples) counts[this.place(e)]++;
    this.check();
    return counts;
  }

  /** A drift alert (e.g. from drift-window): fine-tune as soon as the holdout allows. */
  onDriftAlert(): void {
    this.driftAlert = true;
    this.check();
  }

  /**
   * Examples from one producer ('event-time'), with the producer's promise that everything it makes later is usable
   * only after `upTo` (Infinity at the end of its input). Examples usable up to every producer's progress are taken
   * in event-time order; after each event time's examples, the triggers are decided at that time.
   */
  feed(producer: string, examples: readonly TimedExample[], upTo: number): void {
    if (!this.feedIn) throw new Error(`feed() needs clock 'event-time' (this trainer runs on the wall clock: use add)`);
    this.feedIn.push(producer, examples, upTo);
    let group: number | undefined;
    for (const { example, availableAt } of this.feedIn.take()) {
      if (group !== undefined && availableAt !== group) this.check(group);
      this.place(example);
      group = availableAt;
    }
    if (group !== undefined) this.check(group);
    this.wake();
  }

  /**
   * Whether the version scoring records of this event time is known ('event-time'): every example usable before it
   * has been fed, and every fine-tune triggered before it has been decided.
   */
  decided(eventTime: number): boolean {
    return this.known(eventTime) && !this.queue.some((s) => s.eventTime! < eventTime);
  }

  /** Whether every example usable before this event time has been fed ('event-time'). */
  known(eventTime: number): boolean {
    return this.feedIn !== undefined && this.feedIn.frontier() >= eventTime - 1;
  }

  /** Resolves once `decided(eventTime)`. */
  whenDecided(eventTime: number): Promise<void> {
    if (this.decided(eventTime)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ready: () => this.decided(eventTime), resolve }));
  }

  /** The version of Model B that scores a record of this event time ('event-time'; call once `decided`). */
  versionAt(eventTime: number): string {
    if (!this.timeline) throw new Error('versionAt() needs clock event-time and start()');
    return this.timeline.at(eventTime);
  }

  /** Requests a fine-tune now (subject to the holdout's minimum); resolves when the trainer is idle again. */
  trainNow(): Promise<void> {
    this.manual = true;
    this.check();
    return this.idle();
  }

  /** Resolves once no fine-tune is running (including ones started by triggers that fired during the last). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  stats(): TrainerStats {
    return {
      pseudoExamples: this.examples.size - this.humanCount,
      humanExamples: this.humanCount,
      holdoutSize: this.holdout.size,
      newLabels: this.newLabels,
      outcomes: { ...this.outcomes },
      rejections: { ...this.rejections },
      running: this.running !== undefined,
      waiting: this.waiting,
      runs: this.runs,
      promoted: this.promotions,
      frontier: this.feedIn?.frontier() ?? -Infinity,
      queued: this.queue.length,
    };
  }

  private wallClockOnly(method: string): void {
    if (this.clock === 'event-time')
      throw new Error(`${method}() is for the wall clock; an event-time trainer takes examples through feed()`);
  }

  /** Resolves the waiters whose condition now holds. */
  private wake(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (!w.ready()) continue;
      this.waiters.splice(i, 1);
      w.resolve();
    }
  }

  /** Stops the schedule, waits for a running fine-tune, and stops the worker process. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.idle();
    await this.worker.close();
  }

  private place(example: TrainingExample): AddOutcome {
    const problem = exampleProblem(example, this.modelB);
    if (problem !== undefined) {
      this.rejections[problem] = (this.rejections[problem] ?? 0) + 1;
      this.outcomes.rejected++;
      return 'rejected';
    }
    let outcome: AddOutcome;
    const id = example.record_id;
    if (isHeldOut(id, this.holdoutSpec)) {
      if (example.source === 'pseudo') outcome = 'dropped-holdout';
      else {
        this.holdout.set(id, example);
        outcome = 'holdout';
      }
    } else {
      const known = this.examples.get(id);
      if (known?.source === 'human' && example.source === 'pseudo') outcome = 'dropped-human-known';
      else {
        if (known) this.remove(id);
        this.examples.set(id, example);
        if (example.source === 'human') this.humanCount++;
        outcome = known ? 'replaced' : 'accepted';
        if (this.examples.size > this.maxExamples) this.remove(this.examples.keys().next().value!);
        this.newLabels++;
      }
    }
    this.outcomes[outcome]++;
    return outcome;
  }

  private remove(id: string): void {
    if (this.examples.get(id)?.source === 'human') this.humanCount--;
    this.examples.delete(id);
  }

  /** Decides the triggers; `eventTime` is the event time they are decided at ('event-time'). */
  private check(eventTime?: number): void {
    if (this.modelA === undefined) {
      this.waiting = 'not started: call start()';
      return;
    }
    const decision = decideTrigger(
      {
        newLabels: this.newLabels,
        driftAlert: this.driftAlert,
        scheduleDue: this.scheduleDue,
        manual: this.manual,
        // in event time a trigger is decided when it fires; its run waits in the queue for the runs before it
        running: this.clock === 'wall' && this.running !== undefined,
        holdoutSize: this.holdout.size,
        humanExamples: this.humanCount,
        needsHuman: this.config.minHumanShare > 0,
      },
      this.policy,
    );
    this.scheduleDue = false; // a tick is decided once; the next tick decides again
    if (decision.action === 'none') {
      this.waiting = null;
      return;
    }
    if (decision.action === 'wait') {
      this.waiting = `${decision.trigger}: ${decision.reason}`;
      return;
    }
    this.waiting = null;
    // The snapshot is taken now, synchronously: labels arriving during the run count for the next one.
    const snapshot: Snapshot = {
      trigger: decision.trigger,
      examples: [...this.examples.values()],
      holdout: [...this.holdout.values()],
      startedAt: Date.now(),
      eventTime,
    };
    this.newLabels = 0;
    this.driftAlert = false;
    this.manual = false;
    if (this.clock === 'event-time') {
      this.queue.push(snapshot);
      this.running ??= this.runQueue().finally(() => (this.running = undefined));
      return;
    }
    this.running = this.run(snapshot)
      .catch((error: unknown) =>
        (
          this.options.onError ??
          ((e) => console.error(`model B fine-tune failed: ${e instanceof Error ? e.message : String(e)}`))
        )(error),
      )
      .finally(() => {
        this.running = undefined;
        this.check();
      });
  }

  /** Runs the queued event-time fine-tunes in trigger order; each one's decision is final before the next starts. */
  private async runQueue(): Promise<void> {
    while (this.queue.length > 0) {
      const snapshot = this.queue[0]!;
      snapshot.startedAt = Date.now();
      await this.run(snapshot).catch((error: unknown) =>
        (
          this.options.onError ??
          ((e) => console.error(`model B fine-tune failed: ${e instanceof Error ? e.message : String(e)}`))
        )(error),
      );
      this.queue.shift();
      this.wake();
    }
  }

  private async run(snapshot: Snapshot): Promise<void> {
    const a = this.modelA!;
    // In event time B continues from the version in force at the trigger, not from whatever the registry says now.
    const current = this.timeline
      ? this.registry.get(this.modelB, this.timeline.latest())
      : this.registry.get(this.modelB);
    const parent = `${current.id}@${current.version}`;
    const currentBytes = this.registry.readModel(current.id, current.version).bytes;
    const aBytes = this.registry.readModel(a.id, a.version).bytes;
    const datasetHash = trainingSetHash(snapshot.examples);
    const configHash = hashConfig({ ...this.config, preprocessing: PREPROCESSING, maxExamples: this.maxExamples });

    const tuned = await this.worker.fineTune({
      parentOnnx: currentBytes,
      examples: snapshot.examples.map((e) => ({ text: e.text, label: e.label, human: e.source === 'human' })),
      config: this.config,
      datasetHash,
      configHash,
    });
    const texts: PostingText[] = snapshot.holdout.map((e) => e.text);
    const labels = Int32Array.from(snapshot.holdout, (e) => e.label);
    const scores = await this.worker.evaluate(
      [
        { name: 'candidate', onnx: tuned.onnx },
        { name: 'current', onnx: currentBytes },
        { name: 'a', onnx: aBytes },
      ],
      texts,
      labels,
    );
    const [candidate, currentScore, aScore] = [
      metricsOf(scores.candidate!),
      metricsOf(scores.current!),
      metricsOf(scores.a!),
    ];
    const decision = promotionDecision(candidate.accuracy, currentScore.accuracy, labels.length);
    const human = snapshot.examples.filter((e) => e.source === 'human').length;
    const entry = this.registry.register({
      id: this.modelB,
      kind: current.kind,
      onnx: tuned.onnx,
      parent,
      datasetHash,
      configHash,
      metrics: {
        holdout_accuracy: candidate.accuracy,
        holdout_f1: candidate.f1,
        holdout_ece: candidate.ece,
        holdout_rows: labels.length,
        parent_holdout_accuracy: currentScore.accuracy,
        model_a_holdout_accuracy: aScore.accuracy,
        pseudo_examples: snapshot.examples.length - human,
        human_examples: human,
        train_seconds: tuned.trainSeconds,
      },
      stage: 'candidate',
      reuseIdentical: this.clock === 'event-time',
    });
    if (decision.promote) {
      // register (sha256 + 2 MB write) and the swap (read + verify + post 2 MB) each hold the event loop ~10 ms:
      // never both in one turn
      await new Promise((r) => setImmediate(r));
      this.registry.promote(entry.id, entry.version);
      // its estimated accuracy (CBPE) is calibrated on the holdout it was judged on: recent human labels
      saveCalibration(
        this.registry,
        entry,
        fitCalibration(
          scores.candidate!.topProbabilities,
          Array.from(scores.candidate!.correct, (c) => c === 1),
          'isotonic',
        ),
      );
      if (this.timeline && snapshot.eventTime !== undefined) {
        this.timeline.add(snapshot.eventTime + 1, entry.version);
        this.registry.setInForceFrom(entry.id, entry.version, snapshot.eventTime + 1);
      }
      await this.options.onPromote?.(entry.version);
      this.promotions++;
    }
    this.runs++;
    const run: TrainingRun = {
      runId: this.runId,
      modelId: entry.id,
      version: entry.version,
      parent,
      trigger: snapshot.trigger,
      pseudoExamples: snapshot.examples.length - human,
      humanExamples: human,
      datasetHash,
      configHash,
      losses: tuned.losses,
      featurizeSeconds: tuned.featurizeSeconds,
      trainSeconds: tuned.trainSeconds,
      holdoutSize: labels.length,
      candidate,
      current: currentScore,
      modelA: { ...aScore, ref: `${a.id}@${a.version}` },
      promoted: decision.promote,
      reason: decision.reason,
      startedAt: snapshot.startedAt,
      finishedAt: Date.now(),
      triggerEventTime: snapshot.eventTime ?? null,
      inForceFrom: decision.promote && snapshot.eventTime !== undefined ? snapshot.eventTime + 1 : null,
    };
    this.options.onRun?.(trainingRunRow(run), run);
  }
}
