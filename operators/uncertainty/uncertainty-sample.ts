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
import { type AckToken, releaseAll } from '../../streams/ack.ts';
import type { SourcePosition, StreamRecord } from '../../streams/record.ts';
import type { Batch, Stage, StageOutput } from '../../streams/stage.ts';
import type { Prediction } from '../../schemas/prediction.ts';
import { windowStage } from '../window/window.ts';
import type { WindowResult, WindowSpec } from '../window/window-spec.ts';
import { type DedupKey, type ItemKeys, QueuedKeys, isDuplicate, itemKeys } from './near-duplicate.ts';
import { UNCERTAINTY_METHODS, type UncertaintyMethod, argmax, checkProbabilities, topProbability, uncertainty } from './uncertainty-scores.ts';

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

interface Candidate extends ItemKeys {
  /** Arrival order: the earlier of two equally uncertain candidates wins. */
  seq: number;
  /** Until offered: the record, for the dedup key and payload reference (computed only if it can enter a pool). */
  source: StreamRecord<unknown> | null;
  score: number;
  top: number;
  label: number;
  quota: number;
  modelId: string;
  modelVersion: string;
  payloadRef: string;
  position: SourcePosition;
  /** The source batch's acknowledgement references (held by the window until it closes). */
  tokens: AckToken[];
}

const moreUncertain = (a: Candidate, b: Candidate) => a.score > b.score || (a.score === b.score && a.seq < b.seq);
const byUncertainty = (a: Candidate, b: Candidate) => b.score - a.score || a.seq - b.seq;

/** The candidates of one window: per predicted class its most uncertain ones, no two of them duplicates. */
class WindowPool {
  readonly byClass: Candidate[][] = [];
  /** Arrivals of the current batch, offered once the windows closed by that batch have queued theirs. */
  readonly pending: Candidate[] = [];
  private readonly byId = new Map<string, Candidate>();
  private readonly byKey = new Map<string, Candidate>();
  private readonly hashed = new Set<Candidate>();

  /** Whether `c` would rank among the `capacity` most uncertain of its class. */
  hasRoomFor(c: Candidate, capacity: number): boolean {
    const list = this.byClass[c.label];
    return capacity > 0 && (!list || list.length < capacity || moreUncertain(c, list[capacity - 1]!));
  }

  /** A group of duplicates keeps its most uncertain member. */
  offer(c: Candidate, capacity: number): void {
    const dups = this.duplicatesOf(c);
    if (dups.some((d) => moreUncertain(d, c))) return;
    for (const d of dups) this.remove(d);
    const list = (this.byClass[c.label] ??= []);
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (moreUncertain(list[mid]!, c)) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, c);
    this.index(c);
    if (list.length > capacity) this.remove(list[list.length - 1]!);
  }

  /** Drops members that duplicate `item` (an item another window just queued). */
  purge(item: ItemKeys): void {
    for (const d of this.duplicatesOf(item)) this.remove(d);
  }

  members(): Candidate[] {
    return this.byClass.flat().sort(byUncertainty);
  }

  private duplicatesOf(item: ItemKeys): Candidate[] {
    const found = new Set<Candidate>();
    const byId = this.byId.get(item.id);
    if (byId) found.add(byId);
    const byKey = item.key !== null ? this.byKey.get(item.key) : undefined;
    if (byKey) found.add(byKey);
    if (item.words !== null) for (const h of this.hashed) if (isDuplicate(item, h)) found.add(h);
    return [...found];
  }

  private index(c: Candidate): void {
    this.byId.set(c.id, c);
    if (c.key !== null) this.byKey.set(c.key, c);
    if (c.words !== null) this.hashed.add(c);
  }

  private remove(c: Candidate): void {
    const list = this.byClass[c.label]!;
    list.splice(list.indexOf(c), 1);
    if (this.byId.get(c.id) === c) this.byId.delete(c.id);
    if (c.key !== null && this.byKey.get(c.key) === c) this.byKey.delete(c.key);
    this.hashed.delete(c);
  }
}

const fmt = (x: number) => x.toFixed(3);

export function uncertaintySample<T>(name: string, options: UncertaintySampleOptions<T>): Stage<T, LabelQueueEntry> {
  const method = options.method ?? 'margin';
  const [low, high] = options.band ?? DEFAULT_BAND;
  const { budget } = options;
  const fill = options.fillUnusedQuota ?? true;
  const payloadRef = options.payloadRef ?? ((r: StreamRecord<T>) => `${r.position.topic}/${r.position.partition}@${r.position.offset}`);
  if (!UNCERTAINTY_METHODS.includes(method)) throw new Error(`${name}: unknown method ${JSON.stringify(method)} (known: ${UNCERTAINTY_METHODS.join(', ')})`);
  if (!(low >= 0 && low <= high && high <= 1)) throw new Error(`${name}: band [${low}, ${high}] must satisfy 0 <= low <= high <= 1`);
  if (!Number.isInteger(budget) || budget < 1) throw new Error(`${name}: budget must be a positive integer, got ${budget}`);
  if (options.window.type === 'hopping') {
    throw new Error(`${name}: hopping windows overlap, so one record would count against several budgets; use tumbling or count windows`);
  }
  if (options.classes !== undefined && (!Number.isInteger(options.classes) || options.classes < 2)) throw new Error(`${name}: classes must be an integer >= 2`);
  const quotas = options.classQuota;
  for (const q of typeof quotas === 'number' ? [quotas] : (quotas ?? [])) {
    if (!Number.isInteger(q) || q < 0) throw new Error(`${name}: class quotas must be non-negative integers, got ${q}`);
  }
  const queued = new QueuedKeys(options.remember ?? DEFAULT_REMEMBER);

  const quotaOf = (label: number, classes: number): number => {
    if (quotas === undefined) return Math.ceil(budget / (options.classes ?? classes));
    if (typeof quotas === 'number') return quotas;
    const q = quotas[label];
    if (q === undefined) throw new Error(`no class quota for class ${label} (classQuota has ${quotas.length} entries)`);
    return q;
  };
  // Without filling, a class can never take more than its quota: keeping more candidates would be wasted memory.
  const capacityOf = (c: Candidate) => (fill ? budget : Math.min(budget, c.quota));

  let seq = 0;
  /** Null for a prediction outside the band. Throws (→ dead letter) for an unusable prediction. */
  const candidateOf = (record: StreamRecord<T>, tokens: AckToken[]): Candidate | null => {
    const prediction = options.prediction(record.value);
    const p = prediction.probabilities;
    checkProbabilities(p);
    const top = topProbability(p);
    if (top < low || top > high) return null;
    const label = argmax(p);
    // One literal with every field (keys filled in by `complete`): spreading into it costs more than the scoring.
    return {
      id: prediction.record_id,
      key: null,
      words: null,
      maxDistance: 0,
      seq: seq++,
      source: record,
      score: uncertainty(method, p),
      top,
      label,
      quota: quotaOf(label, p.length),
      modelId: prediction.model_id,
      modelVersion: prediction.model_version,
      payloadRef: '',
      position: record.position,
      tokens,
    };
  };

  const open = new Set<WindowPool>();
  let arrived: WindowPool[] = [];
  const windows = windowStage<Candidate | null, WindowPool>(`${name}/window`, {
    spec: options.window,
    scope: 'stream',
    allowedLatenessMs: options.allowedLatenessMs,
    idleTimeoutMs: options.idleTimeoutMs,
    init: () => {
      const pool = new WindowPool();
      open.add(pool);
      return pool;
    },
    add: (pool, c) => {
      if (c) {
        if (pool.pending.length === 0) arrived.push(pool);
        pool.pending.push(c);
      }
      return pool;
    },
  });

  /** Fills in what only a candidate that can enter the pool needs: hashing every in-band record's text would cost 4×. */
  const complete = (c: Candidate, out: StageOutput<LabelQueueEntry>): boolean => {
    const record = c.source as StreamRecord<T>;
    c.source = null;
    try {
      const keys = itemKeys(c.id, options.dedupKey?.(record.value, record) ?? null);
      c.key = keys.key;
      c.words = keys.words;
      c.maxDistance = keys.maxDistance;
      c.payloadRef = payloadRef(record);
      return true;
    } catch (error) {
      out.deadLetter(record, error);
      return false;
    }
  };

  const offerPending = (pool: WindowPool, out: StageOutput<LabelQueueEntry>) => {
    for (const c of pool.pending) {
      if (pool.hasRoomFor(c, capacityOf(c)) && complete(c, out) && !queued.has(c)) pool.offer(c, capacityOf(c));
    }
    pool.pending.length = 0;
  };

  /** Quota pass, then (when filling) the rest of the budget by uncertainty alone. */
  const select = (pool: WindowPool): { c: Candidate; overQuota: boolean }[] => {
    const members = pool.members();
    const picked = new Map<Candidate, boolean>();
    const taken: number[] = [];
    for (const c of members) {
      if (picked.size >= budget) break;
      if ((taken[c.label] ?? 0) < c.quota) {
        picked.set(c, false);
        taken[c.label] = (taken[c.label] ?? 0) + 1;
      }
    }
    if (fill) for (const c of members) if (picked.size < budget && !picked.has(c)) picked.set(c, true);
    return [...picked].sort(([a], [b]) => byUncertainty(a, b)).map(([c, overQuota]) => ({ c, overQuota }));
  };

  const entryOf = (w: WindowResult<WindowPool>, c: Candidate, rank: number, overQuota: boolean): LabelQueueEntry => ({
    recordId: c.id,
    pipeline: options.pipeline,
    modelId: c.modelId,
    modelVersion: c.modelVersion,
    windowStart: w.start,
    windowEnd: w.end,
    method,
    score: c.score,
    topProbability: c.top,
    predictedLabel: c.label,
    rank,
    reason:
      `${method} uncertainty ${fmt(c.score)}, top ${fmt(c.top)} in [${low}, ${high}], #${rank} in window; ` +
      (overQuota ? `class ${c.label} over its quota ${c.quota}: budget other classes left unused` : `within class ${c.label} quota ${c.quota}`),
    payloadRef: c.payloadRef,
  });

  /**
   * Queues the windows the inner window stage closed (in its order), then offers the batch's remaining arrivals to
   * the windows still open: so an arrival is checked against everything queued up to and including its batch.
   * `held` are the closed windows' references: the queued entries keep those of their source batches.
   */
  const settle = (closed: WindowResult<WindowPool>[], held: AckToken[], out: StageOutput<LabelQueueEntry>) => {
    const records: StreamRecord<LabelQueueEntry>[] = [];
    const keep = new Set<AckToken>();
    for (const w of closed) {
      const pool = w.value;
      open.delete(pool);
      offerPending(pool, out);
      const picks = select(pool);
      picks.forEach(({ c, overQuota }, i) => {
        queued.add(c);
        for (const other of open) other.purge(c);
        records.push({ key: c.id, value: entryOf(w, c, i + 1, overQuota), eventTime: w.end - 1, headers: {}, position: c.position });
        for (const t of c.tokens) keep.add(t);
      });
    }
    for (const pool of arrived) offerPending(pool, out);
    arrived = [];
    if (records.length > 0) {
      for (const t of keep) t.retain();
      out.emit({ records, tokens: [...keep] });
    }
    releaseAll(held);
  };

  const capture = (closed: WindowResult<WindowPool>[], held: AckToken[], out: StageOutput<LabelQueueEntry>): StageOutput<WindowResult<WindowPool>> => ({
    emit(batch) {
      for (const r of batch.records) closed.push(r.value);
      for (const t of batch.tokens) held.push(t);
    },
    // Late predictions: their window has already queued its entries.
    emitSide(_port, batch) {
      releaseAll(batch.tokens);
    },
    deadLetter: (record, error) => out.deadLetter(record, error),
  });

  return {
    name,
    async onBatch(batch: Batch<T>, out) {
      const tokens = batch.tokens.slice();
      const keyless: StreamRecord<Candidate | null>[] = [];
      for (const record of batch.records) {
        if (!Number.isFinite(record.eventTime)) {
          out.deadLetter(record, new Error(`event time is not a finite number: ${record.eventTime}`));
          continue;
        }
        let candidate: Candidate | null;
        try {
          candidate = candidateOf(record, tokens);
        } catch (error) {
          out.deadLetter(record, error);
          continue;
        }
        // Key null: one window (and one budget) over the whole stream, not one per record key.
        keyless.push({ key: null, value: candidate, eventTime: record.eventTime, headers: record.headers, position: record.position });
      }
      const closed: WindowResult<WindowPool>[] = [];
      const held: AckToken[] = [];
      // The window stage takes over the batch's references (it releases them once it has retained its own).
      await windows.onBatch({ records: keyless, tokens: batch.tokens }, capture(closed, held, out));
      settle(closed, held, out);
    },
    onTick(now, out) {
      const closed: WindowResult<WindowPool>[] = [];
      const held: AckToken[] = [];
      windows.onTick!(now, capture(closed, held, out));
      settle(closed, held, out);
    },
    async onEnd(out) {
      const closed: WindowResult<WindowPool>[] = [];
      const held: AckToken[] = [];
      await windows.onEnd!(capture(closed, held, out));
      settle(closed, held, out);
    },
    onRevoke(partitions) {
      windows.onRevoke!(partitions);
    },
  };
}
