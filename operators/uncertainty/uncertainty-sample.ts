/**
 * `uncertainty-sample`: picks, per window, the predictions most worth a human label (see README.md).
 *
 * Each prediction is scored (uncertainty-scores.ts); those whose top probability lies in the band are candidates.
 * When the window closes, its budget is filled with the most uncertain candidates: first each predicted class up
 * to its quota, then (by default) whatever budget is left with the most uncertain of the rest. Near-duplicates
 * count once — as their most uncertain member — and an item queued before (same record id or dedup key, within
 * the last `remember` queued items) is never queued again. Output: one LabelQueueEntry per queued prediction;
 * everything else is dropped (the stage is a side branch: the main stream carries on elsewhere).
 *
 * Bounded memory: a window keeps at most `budget` candidates per class (`quota` without filling), plus the current
 * batch's arrivals; the candidates hold a few fields of the prediction, never the record value.
 */
import type { StreamRecord } from '../../streams/kernel/record.ts';
import type { Stage } from '../../streams/kernel/stage.ts';
import {
  type BatchRef,
  type StatefulContext,
  type StatefulLogic,
  statefulStage,
} from '../../streams/kernel/stateful.ts';
import { type Window, Windower, windowRecord } from '../../streams/kernel/windower.ts';
import type { Prediction } from '../../schemas/prediction.ts';
import type { WindowResult, WindowSpec } from '../../streams/kernel/operators/window/window-spec.ts';
import { type DedupKey, QueuedKeys, itemKeys } from './near-duplicate.ts';
import { type Candidate, type Pick, WindowPool, selectPicks } from './uncertainty-pool.ts';
import {
  UNCERTAINTY_METHODS,
  type UncertaintyMethod,
  argmax,
  checkProbabilities,
  topProbability,
  uncertainty,
} from './uncertainty-scores.ts';

export interface UncertaintySampleOptions<T> {
  /** Pipeline name, carried into the label_queue rows. */
  pipeline: string;
  /** The prediction to score (e.g. `(v) => v.predictions[0]` after `infer`). */
  prediction: (value: T) => Prediction;
  /** Default 'margin'. */
  method?: UncertaintyMethod;
  /** Inclusive range of the top probability a candidate must have. Default [0.4, 0.7]. */
  band?: readonly [number, number];
  /** Tumbling (event time) or count windows over the whole stream. Hopping windows are refused (see README). */
  window: WindowSpec;
  allowedLatenessMs?: number;
  /** Close a window that has seen no record for this long (wall clock). */
  idleTimeoutMs?: number;
  /** Entries queued per window at most. */
  budget: number;
  /** Number of classes, for the default quota. Default: the length of each prediction's probabilities. */
  classes?: number;
  /** Per predicted class (one number for all, or one per class). Default ceil(budget / classes). */
  classQuota?: number | readonly number[];
  /** Give budget a class leaves unused to the most uncertain candidates of other classes. Default true. */
  fillUnusedQuota?: boolean;
  /** Identity beyond the record id: a text key, a perceptual hash, or null. */
  dedupKey?: (value: T, record: StreamRecord<T>) => DedupKey | null;
  /** How many queued items are remembered (least recently seen forgotten first). Default 10,000. */
  remember?: number;
  /** Where the labeller finds the input. Default the source position, `topic/partition@offset`. */
  payloadRef?: (record: StreamRecord<T>) => string;
}

/** One prediction queued for labelling: what a `label_queue` row is made from (label-queue-row.ts). */
export interface LabelQueueEntry {
  recordId: string;
  pipeline: string;
  modelId: string;
  modelVersion: string;
  windowStart: number;
  windowEnd: number;
  method: UncertaintyMethod;
  /** Uncertainty in [0, 1], higher = less sure. */
  score: number;
  topProbability: number;
  predictedLabel: number;
  /** 1 = the most uncertain entry queued in its window. */
  rank: number;
  reason: string;
  payloadRef: string;
}

export const DEFAULT_BAND: readonly [number, number] = [0.4, 0.7];
export const DEFAULT_REMEMBER = 10_000;

const fmt = (x: number) => x.toFixed(3);

function checkOptions<T>(name: string, options: UncertaintySampleOptions<T>): void {
  const method = options.method ?? 'margin';
  const [low, high] = options.band ?? DEFAULT_BAND;
  const { budget } = options;
  if (!UNCERTAINTY_METHODS.includes(method))
    throw new Error(`${name}: unknown method ${JSON.stringify(method)} (known: ${UNCERTAINTY_METHODS.join(', ')})`);
  if (!(low >= 0 && low <= high && high <= 1))
    throw new Error(`${name}: band [${low}, ${high}] must satisfy 0 <= low <= high <= 1`);
  if (!Number.isInteger(budget) || budget < 1)
    throw new Error(`${name}: budget must be a positive integer, got ${budget}`);
  if (options.window.type === 'hopping') {
    throw new Error(
      `${name}: hopping windows overlap, so one record would count against several budgets; use tumbling or count ` +
        `windows`,
    );
  }
  if (options.classes !== undefined && (!Number.isInteger(options.classes) || options.classes < 2))
    throw new Error(`${name}: classes must be an integer >= 2`);
  const quotas = options.classQuota;
  for (const q of typeof quotas === 'number' ? [quotas] : (quotas ?? [])) {
    if (!Number.isInteger(q) || q < 0) throw new Error(`${name}: class quotas must be non-negative integers, got ${q}`);
  }
}

export function uncertaintySample<T>(name: string, options: UncertaintySampleOptions<T>): Stage<T, LabelQueueEntry> {
  checkOptions(name, options);
  return statefulStage(name, new UncertaintySampler(options));
}

/**
 * One budget per window over the whole stream (key null). A batch's arrivals wait in their pools' `pending` until
 * the windows that batch closed have queued their entries: an arrival is checked against everything queued up to
 * and including its batch. Queued entries are acknowledged with their own source batches; the window's others
 * are released when it closes.
 */
class UncertaintySampler<T> implements StatefulLogic<T, LabelQueueEntry> {
  private readonly method: UncertaintyMethod;
  private readonly band: readonly [number, number];
  private readonly fill: boolean;
  private readonly payloadRef: (record: StreamRecord<T>) => string;
  private readonly queued: QueuedKeys;
  private readonly windower: Windower<Candidate | null, WindowPool>;
  /** Pools of the windows still open, and those that received arrivals in the current batch. */
  private readonly open = new Set<WindowPool>();
  private arrived: WindowPool[] = [];
  private seq = 0;

  constructor(private readonly options: UncertaintySampleOptions<T>) {
    this.method = options.method ?? 'margin';
    this.band = options.band ?? DEFAULT_BAND;
    this.fill = options.fillUnusedQuota ?? true;
    this.payloadRef = options.payloadRef ?? ((r) => `${r.position.topic}/${r.position.partition}@${r.position.offset}`);
    this.queued = new QueuedKeys(options.remember ?? DEFAULT_REMEMBER);
    this.windower = new Windower<Candidate | null, WindowPool>({
      spec: options.window,
      scope: 'stream',
      allowedLatenessMs: options.allowedLatenessMs,
      idleTimeoutMs: options.idleTimeoutMs,
      init: () => {
        const pool = new WindowPool();
        this.open.add(pool);
        return pool;
      },
      add: (pool, c) => {
        if (c) {
          if (pool.pending.length === 0) this.arrived.push(pool);
          pool.pending.push(c);
        }
        return pool;
      },
    });
  }

  onBatch(records: StreamRecord<T>[], ctx: StatefulContext<LabelQueueEntry>): void {
    const batch = ctx.batch();
    const keyless: StreamRecord<Candidate | null>[] = [];
    for (const record of records) {
      if (!Number.isFinite(record.eventTime)) {
        ctx.deadLetter(record, new Error(`event time is not a finite number: ${record.eventTime}`));
        continue;
      }
      let candidate: Candidate | null;
      try {
        candidate = this.candidateOf(record, batch);
      } catch (error) {
        ctx.deadLetter(record, error);
        continue;
      }
      // Key null: one window (and one budget) over the whole stream, not one per record key.
      keyless.push({
        key: null,
        value: candidate,
        eventTime: record.eventTime,
        headers: record.headers,
        position: record.position,
      });
    }
    // Late predictions are dropped: their window has already queued its entries.
    this.settle(this.windower.add(keyless, ctx).closed, ctx);
  }

  onNotify(now: number, ctx: StatefulContext<LabelQueueEntry>): void {
    this.settle(this.windower.closeIdle(now), ctx);
  }

  onEof(ctx: StatefulContext<LabelQueueEntry>): void {
    this.settle(this.windower.closeAll(), ctx);
  }

  onRevoke(): void {
    // Stream-wide windows: kept on a rebalance (the windower's stream scope keeps its state).
  }

  /** Null for a prediction outside the band. Throws (→ dead letter) for an unusable prediction. */
  private candidateOf(record: StreamRecord<T>, batch: BatchRef): Candidate | null {
    const prediction = this.options.prediction(record.value);
    const p = prediction.probabilities;
    checkProbabilities(p);
    const top = topProbability(p);
    const [low, high] = this.band;
    if (top < low || top > high) return null;
    const label = argmax(p);
    // One literal with every field (keys filled in by `complete`): spreading into it costs more than the scoring.
    return {
      id: prediction.record_id,
      key: null,
      words: null,
      maxDistance: 0,
      seq: this.seq++,
      source: record,
      score: uncertainty(this.method, p),
      top,
      label,
      quota: this.quotaOf(label, p.length),
      modelId: prediction.model_id,
      modelVersion: prediction.model_version,
      payloadRef: '',
      position: record.position,
      batch,
    };
  }

  private quotaOf(label: number, classes: number): number {
    const quotas = this.options.classQuota;
    if (quotas === undefined) return Math.ceil(this.options.budget / (this.options.classes ?? classes));
    if (typeof quotas === 'number') return quotas;
    const q = quotas[label];
    if (q === undefined) throw new Error(`no class quota for class ${label} (classQuota has ${quotas.length} entries)`);
    return q;
  }

  /** Without filling, a class can never take more than its quota: keeping more candidates would be wasted memory. */
  private capacityOf(c: Candidate): number {
    return this.fill ? this.options.budget : Math.min(this.options.budget, c.quota);
  }

  /**
   * Fills in what only a candidate that can enter the pool needs: hashing every in-band record's text would cost 4×.
   */
  private complete(c: Candidate, ctx: StatefulContext<LabelQueueEntry>): boolean {
    const record = c.source as StreamRecord<T>;
    c.source = null;
    try {
      const keys = itemKeys(c.id, this.options.dedupKey?.(record.value, record) ?? null);
      c.key = keys.key;
      c.words = keys.words;
      c.maxDistance = keys.maxDistance;
      c.payloadRef = this.payloadRef(record);
      return true;
    } catch (error) {
      ctx.deadLetter(record, error);
      return false;
    }
  }

  private offerPending(pool: WindowPool, ctx: StatefulContext<LabelQueueEntry>): void {
    for (const c of pool.pending) {
      if (pool.hasRoomFor(c, this.capacityOf(c)) && this.complete(c, ctx) && !this.queued.has(c))
        pool.offer(c, this.capacityOf(c));
    }
    pool.pending.length = 0;
  }

  /**
   * Queues the closed windows' picks (in the windower's order), then offers the batch's remaining arrivals to the
   * windows still open. The entries go out acknowledged with their candidates' source batches only.
   */
  private settle(closed: Window<WindowPool>[], ctx: StatefulContext<LabelQueueEntry>): void {
    const records: StreamRecord<LabelQueueEntry>[] = [];
    const sources: BatchRef[] = [];
    for (const w of closed) {
      const pool = w.acc;
      this.open.delete(pool);
      this.offerPending(pool, ctx);
      const bounds = windowRecord(w, this.options.window.type === 'count', null).value;
      selectPicks(pool, this.options.budget, this.fill).forEach((pick, i) => {
        this.queued.add(pick.c);
        for (const other of this.open) other.purge(pick.c);
        records.push({
          key: pick.c.id,
          value: this.entryOf(bounds, pick, i + 1),
          eventTime: bounds.end - 1,
          headers: {},
          position: pick.c.position,
        });
        sources.push(pick.c.batch);
      });
    }
    for (const pool of this.arrived) this.offerPending(pool, ctx);
    this.arrived = [];
    ctx.emit(records, { closes: closed, only: sources });
  }

  private entryOf(w: WindowResult<unknown>, { c, overQuota }: Pick, rank: number): LabelQueueEntry {
    const [low, high] = this.band;
    return {
      recordId: c.id,
      pipeline: this.options.pipeline,
      modelId: c.modelId,
      modelVersion: c.modelVersion,
      windowStart: w.start,
      windowEnd: w.end,
      method: this.method,
      score: c.score,
      topProbability: c.top,
      predictedLabel: c.label,
      rank,
      reason:
        `${this.method} uncertainty ${fmt(c.score)}, top ${fmt(c.top)} in [${low}, ${high}], #${rank} in window; ` +
        (overQuota
          ? `class ${c.label} over its quota ${c.quota}: budget other classes left unused`
          : `within class ${c.label} quota ${c.quota}`),
      payloadRef: c.payloadRef,
    };
  }
}
