import type { SourcePosition, StreamRecord } from '../../streams/kernel/record.ts';
import type { BatchRef } from '../../streams/kernel/stateful.ts';
import { type ItemKeys, isDuplicate } from './near-duplicate.ts';

export interface Candidate extends ItemKeys {
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
  /** The source batch: an entry queued from this candidate is acknowledged with it. */
  batch: BatchRef;
}

const moreUncertain = (a: Candidate, b: Candidate) => a.score > b.score || (a.score === b.score && a.seq < b.seq);
export const byUncertainty = (a: Candidate, b: Candidate) => b.score - a.score || a.seq - b.seq;

/** The candidates of one window: per predicted class its most uncertain ones, no two of them duplicates. */
export class WindowPool {
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
    this.byClass[c.label] ??= [];
    const list = this.byClass[c.label];
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

/** A queued pick: the candidate, and whether it took budget another class left unused (beyond its own quota). */
export interface Pick {
  c: Candidate;
  overQuota: boolean;
}

/** Quota pass, then (when filling) the rest of the budget by uncertainty alone; most uncertain first. */
export function selectPicks(pool: WindowPool, budget: number, fill: boolean): Pick[] {
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
}
