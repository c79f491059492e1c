/** What one fine-tune of Model B produced and decided, and its `training_runs` warehouse row. */
import { type Row, compositeId } from '../../schemas/warehouse-row.ts';
import type { BinaryMetrics } from '../postings/train.ts';
import type { TriggerReason } from './trigger-policy.ts';

export interface TrainingRun {
  /** The trainer's run id (one per trainer process). */
  runId: string;
  modelId: string;
  /** The candidate version registered. */
  version: string;
  /** `id@version` it was fine-tuned from: the current production B. */
  parent: string;
  trigger: TriggerReason;
  pseudoExamples: number;
  humanExamples: number;
  datasetHash: string;
  configHash: string;
  losses: number[];
  featurizeSeconds: number;
  trainSeconds: number;
  holdoutSize: number;
  /** Candidate, current B (`parent`) and frozen Model A on the same holdout. */
  candidate: BinaryMetrics;
  current: BinaryMetrics;
  modelA: BinaryMetrics & { ref: string };
  promoted: boolean;
  reason: string;
  startedAt: number;
  finishedAt: number;
  /** The event time the fine-tune was triggered at (event-time training), else null. */
  triggerEventTime: number | null;
  /** When promoted in event time: the first event time the version scores (trigger + 1 ms), else null. */
  inForceFrom: number | null;
}

export function trainingRunRow(run: TrainingRun): Row {
  return {
    // the run id too: a replay that trains the same candidate again names the same version
    id: compositeId(run.runId, run.modelId, run.version),
    version: run.finishedAt,
    run_id: run.runId,
    model_id: run.modelId,
    candidate_version: run.version,
    parent: run.parent,
    trigger: run.trigger,
    pseudo_examples: run.pseudoExamples,
    human_examples: run.humanExamples,
    train_seconds: run.trainSeconds,
    holdout_size: run.holdoutSize,
    candidate_accuracy: run.candidate.accuracy,
    current_accuracy: run.current.accuracy,
    model_a_accuracy: run.modelA.accuracy,
    promoted: run.promoted ? 1 : 0,
    reason: run.reason,
    started_at: run.startedAt,
    finished_at: run.finishedAt,
    trigger_event_time: run.triggerEventTime,
    in_force_from: run.inForceFrom,
  };
}
