/**
 * Holds the stream at Model B's training barriers (event-time training, models/continual/README.md): a batch goes on
 * only once the version that scores each of its records is decided — the trainer has every example usable before
 * the batch's last event time, and every fine-tune triggered before that time has been trained, evaluated and
 * promoted or rejected. Which B version scores a record then depends on its event time alone, not on how fast the
 * machine trained.
 *
 * Two kinds of waiting:
 *   - for the trainer's example producers (pseudo-label, human labels) to catch up: they run beside this stage, fed
 *     by the same upstream, so blocking here would starve them; batches are kept and the stage returns. They are
 *     let go by a later batch, a tick or the end. What is kept is bounded by how far the producers lag (their
 *     windows and lateness), not by the input.
 *   - for a fine-tune: the stage waits, and backpressure holds everything upstream (bounded queues).
 */
import type { ModelBTrainer } from '../../models/continual/model-b-trainer.ts';
import type { Batch, Stage, StageOutput } from '../kernel/stage.ts';

export interface TrainingBarrierStats {
  /** Batches let go. */
  batches: number;
  /** Wall time spent waiting for fine-tunes, ms. */
  trainingWaitMs: number;
  /** Times the stream stopped for a fine-tune. */
  trainingWaits: number;
  /** Most batches kept at once while the producers caught up. */
  maxKept: number;
}

export interface TrainingBarrierStage<T> extends Stage<T, T> {
  stats(): TrainingBarrierStats;
}

type Trainer = Pick<ModelBTrainer, 'known' | 'decided' | 'whenDecided'>;

const lastTime = (batch: Batch<unknown>) => batch.records.reduce((t, r) => Math.max(t, r.eventTime), -Infinity);

export function trainingBarrier<T>(name: string, trainer: Trainer): TrainingBarrierStage<T> {
  const kept: Array<{ batch: Batch<T>; until: number }> = [];
  const stats: TrainingBarrierStats = { batches: 0, trainingWaitMs: 0, trainingWaits: 0, maxKept: 0 };

  /** Lets go of the kept batches whose versions are decided, oldest first. */
  const letGo = (out: StageOutput<T>) => {
    while (kept.length > 0 && trainer.decided(kept[0]!.until)) {
      out.emit(kept.shift()!.batch);
      stats.batches++;
    }
  };
  const waitForTraining = async (until: number) => {
    const started = Date.now();
    stats.trainingWaits++;
    await trainer.whenDecided(until);
    stats.trainingWaitMs += Date.now() - started;
  };

  return {
    name,
    async onBatch(batch, out) {
      kept.push({ batch, until: lastTime(batch) });
      stats.maxKept = Math.max(stats.maxKept, kept.length);
      letGo(out);
      // Everything before the oldest kept batch is known and only a fine-tune stands in the way: wait for it here.
      while (kept.length > 0 && trainer.known(kept[0]!.until)) {
        await waitForTraining(kept[0]!.until);
        letGo(out);
      }
    },
    onTick(_now, out) {
      letGo(out);
    },
    async onEnd(out) {
      // The producers finish with the input, so every kept batch is decided in the end.
      for (const { until } of kept) if (!trainer.decided(until)) await waitForTraining(until);
      letGo(out);
    },
    stats: () => ({ ...stats }),
  };
}
