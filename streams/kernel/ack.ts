import type { PartitionOffset, TopicPartition } from './transport/transport.ts';

/**
 * One reference-counted claim on a source batch. The batch's offsets may be committed once every record
 * derived from it has been acknowledged by every sink, i.e. once all references are released.
 * Each element of a batch's `tokens` array stands for exactly one reference.
 */
export class AckToken {
  private pending = 1;
  constructor(
    readonly topic: string,
    readonly partition: number,
    /** Offset to commit once this batch and everything before it is done. */
    readonly nextOffset: number,
    private readonly onDone: (token: AckToken) => void,
    /** Records in the source batch, and when their end-to-end latency starts (end-to-end-latency.ts). */
    readonly records = 0,
    readonly start: number | Float64Array = 0,
  ) {}

  /** When a record sink (one not behind a window) last acknowledged records of this batch; 0 until one did. */
  recordSinkAckAt = 0;

  retain(count = 1): void {
    this.pending += count;
  }

  release(): void {
    this.pending -= 1;
    if (this.pending === 0) this.onDone(this);
    else if (this.pending < 0)
      throw new Error(`ack token ${this.topic}/${this.partition}@${this.nextOffset} released too often`);
  }

  get done(): boolean {
    return this.pending === 0;
  }
}

export function retainAll(tokens: readonly AckToken[], times = 1): void {
  for (const t of tokens) t.retain(times);
}

export function releaseAll(tokens: readonly AckToken[]): void {
  for (const t of tokens) t.release();
}

/**
 * Turns completed tokens into committable offsets. Batches of one partition complete out of order (a window
 * may hold an early batch while later ones flow through), so only the contiguous completed prefix is committable.
 */
export class CommitTracker {
  private readonly inFlight = new Map<string, AckToken[]>();
  private readonly ready = new Map<string, PartitionOffset>();

  /** `onAcknowledged` hears of every batch whose references were all released (end-to-end latency). */
  constructor(private readonly onAcknowledged?: (token: AckToken) => void) {}

  track(topic: string, partition: number, nextOffset: number, records = 0, start: number | Float64Array = 0): AckToken {
    const id = `${topic}\u0000${partition}`;
    let queue = this.inFlight.get(id);
    if (!queue) {
      queue = [];
      this.inFlight.set(id, queue);
    }
    const token = new AckToken(
      topic,
      partition,
      nextOffset,
      (t) => {
        this.onAcknowledged?.(t);
        this.advance(id, queue!);
      },
      records,
      start,
    );
    queue.push(token);
    return token;
  }

  private advance(id: string, queue: AckToken[]): void {
    // A queue replaced by revoke() belongs to an old assignment: its completions no longer matter.
    if (this.inFlight.get(id) !== queue) return;
    let last: AckToken | undefined;
    while (queue.length > 0 && queue[0]!.done) last = queue.shift();
    if (last) this.ready.set(id, { topic: last.topic, partition: last.partition, offset: last.nextOffset });
  }

  /** Offsets that became committable since the last call. */
  takeCommittable(): PartitionOffset[] {
    const out = [...this.ready.values()];
    this.ready.clear();
    return out;
  }

  /** Forget partitions taken away by a rebalance; their new owner resumes from the last commit. */
  revoke(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const id = `${p.topic}\u0000${p.partition}`;
      this.inFlight.delete(id);
      this.ready.delete(id);
    }
  }

  get pendingBatches(): number {
    let n = 0;
    for (const q of this.inFlight.values()) n += q.length;
    return n;
  }
}
