import type { PartitionOffset } from '../connectors/transport.ts';

/** Log end offsets (next offset to be written) of the partitions a run reads, from the transport. */
export type LogEnds = () => Promise<PartitionOffset[]>;

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

  constructor(private readonly logEnds: LogEnds) {}

  /** The source read a partition up to (not including) `nextOffset`. */
  read(topic: string, partition: number, nextOffset: number): void {
    this.positions.set(id(topic, partition), nextOffset);
  }

  /** Lag of the given log ends against the positions read so far. */
  lagAt(ends: readonly PartitionOffset[]): number {
    let lag = 0;
    for (const e of ends) {
      const position = this.positions.get(id(e.topic, e.partition));
      if (position !== undefined && e.offset > position) lag += e.offset - position;
    }
    return lag;
  }

  /** Starts a sample unless one is in flight; failures (a broker hiccup) just skip the sample. */
  sample(): Promise<void> {
    this.sampling ??= this.logEnds()
      .then((ends) => {
        const lag = this.lagAt(ends);
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
