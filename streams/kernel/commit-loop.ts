import type { PartitionOffset } from './transport/transport.ts';
import type { CommitTracker } from './ack.ts';
import type { Source } from './source.ts';

/**
 * Commits, every `intervalMs` and once at the end, the offsets whose batches every sink has acknowledged
 * (CommitTracker). Commits run one after another, never two at once, so offsets only move forward.
 */
export class CommitLoop {
  private committing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly tracker: CommitTracker,
    private readonly source: Source<unknown>,
    private readonly onCommit?: (offsets: PartitionOffset[]) => void,
  ) {}

  /** Commits every `intervalMs` until `stop`; a failed commit goes to `onError`. */
  start(intervalMs: number, onError: (error: unknown) => void): void {
    this.timer = setInterval(() => this.commit().catch(onError), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Commits what became committable since the last commit, after any commit still in flight. */
  commit(): Promise<void> {
    this.committing = this.committing.then(async () => {
      const offsets = this.tracker.takeCommittable();
      if (offsets.length === 0) return;
      await this.source.commit(offsets);
      this.onCommit?.(offsets);
    });
    return this.committing;
  }
}
