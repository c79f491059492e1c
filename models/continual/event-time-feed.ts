/**
 * Training examples in event time. Every example becomes usable at an event time (`availableAt`): a human label once
 * both its posting and the label itself are in the stream, a pseudo-label when its window closes. The stages that make
 * examples (producers) push what they made together with how far their input has gone; the feed hands examples on
 * only once every producer is past their time, and always in one order (availableAt, then record id, then source), so
 * the trainer sees the same sequence however the producers' batches interleave.
 */
import type { TrainingExample } from './training-example.ts';

export interface TimedExample {
  example: TrainingExample;
  /** Event time (epoch ms) from which the example may be trained on. */
  availableAt: number;
}

const inOrder = (a: TimedExample, b: TimedExample) =>
  a.availableAt - b.availableAt ||
  compare(a.example.record_id, b.example.record_id) ||
  compare(a.example.source, b.example.source);
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class EventTimeFeed {
  /** Producer → the event time up to which it has pushed every example it will ever make. */
  private readonly progress = new Map<string, number>();
  private pending: TimedExample[] = [];

  constructor(producers: readonly string[]) {
    if (producers.length === 0) throw new Error('an event-time feed needs at least one producer');
    for (const p of producers) this.progress.set(p, -Infinity);
  }

  /**
   * Examples from `producer`, which promises that every example it makes later is available after `upTo`
   * (Infinity at the end of its input).
   */
  push(producer: string, examples: readonly TimedExample[], upTo: number): void {
    const known = this.progress.get(producer);
    if (known === undefined)
      throw new Error(`unknown example producer "${producer}" (known: ${[...this.progress.keys()].join(', ')})`);
    for (const e of examples) {
      if (e.availableAt <= known)
        throw new Error(
          `producer "${producer}" pushed an example available at ${e.availableAt}, before its own progress ${known}`,
        );
    }
    this.pending.push(...examples);
    this.progress.set(producer, Math.max(known, upTo));
  }

  /** Every example available at or before this time has been pushed. */
  frontier(): number {
    return Math.min(...this.progress.values());
  }

  /** Removes and returns the examples available up to the frontier, in the feed's order. */
  take(): TimedExample[] {
    const frontier = this.frontier();
    const ready = this.pending.filter((e) => e.availableAt <= frontier);
    if (ready.length === 0) return [];
    this.pending = this.pending.filter((e) => e.availableAt > frontier);
    return ready.sort(inOrder);
  }

  /** Examples pushed but not yet handed on. */
  get waiting(): number {
    return this.pending.length;
  }
}
