import type { PartitionOffset } from './transport/transport.ts';

/** Log end offsets (next offset to be written) of the partitions a run reads, from the transport. */
export type LogEnds = () => Promise<PartitionOffset[]>;

/** Records of one partition behind its log end. */
export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

const id = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Consumer lag: records behind the log end, summed over partitions, sampled now and then (one offsets request per
 * sample, never on the hot path). Positions come from what the source has read; a partition the run has not read
 * from yet is not counted (its position is only known once its first batch arrives).
 */
export class ConsumerLag {
  private readonly positions = new Map<string, number>();
  private sampling: Promise<void> | undefined;
  /** Largest lag seen; null until a sample succeeded. */
  max: number | null = null;
  last: number | null = null;
  /** Per partition, from the last successful sample (metrics exporters). */
  lastByPartition: PartitionLag[] = [];

  constructor(private readonly logEnds: LogEnds) {}

  /** The source read a partition up to (not including) `nextOffset`. */
  read(topic: string, partition: number, nextOffset: number): void {
    this.positions.set(id(topic, partition), nextOffset);
  }

  /** Lag of the given log ends against the positions read so far. */
  lagAt(ends: readonly PartitionOffset[]): number {
    return this.lagsAt(ends).reduce((sum, p) => sum + p.lag, 0);
  }

  /** Lag of each partition read so far against the given log ends. */
  lagsAt(ends: readonly PartitionOffset[]): PartitionLag[] {
    const lags: PartitionLag[] = [];
    for (const e of ends) {
      const position = this.positions.get(id(e.topic, e.partition));
      if (position === undefined) continue;
      lags.push({ topic: e.topic, partition: e.partition, lag: Math.max(0, e.offset - position) });
    }
    return lags;
  }

  /** Starts a sample unless one is in flight; failures (a broker hiccup) just skip the sample. */
  sample(): Promise<void> {
    this.sampling ??= this.logEnds()
      .then((ends) => {
        this.lastByPartition = this.lagsAt(ends);
        const lag = this.lastByPartition.reduce((sum, p) => sum + p.lag, 0);
        this.last = lag;
        if (this.max === null || lag > this.max) this.max = lag;
      })
      .catch(() => {})
      .finally(() => {
        this.sampling = undefined;
      });
    return this.sampling;
  }

  /** Waits for a sample in flight (before the transport closes). */
  async settle(): Promise<void> {
    await this.sampling;
  }
}
