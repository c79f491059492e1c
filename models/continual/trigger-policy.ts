/**
 * When Model B is fine-tuned: after `everyNewLabels` new labels (pseudo or human), on a drift alert, on a schedule,
 * or on request — but only once the human-labelled holdout is large enough to judge a candidate, and (when batches
 * need a human share) there is at least one human example to train on. Until then a trigger waits; it is not lost.
 * One fine-tune runs at a time: triggers that arrive during a run are decided when it ends.
 */
export type TriggerReason = 'labels' | 'drift' | 'schedule' | 'manual';

export interface TriggerPolicy {
  /** Fine-tune after this many new accepted labels. Default 500. */
  everyNewLabels: number;
  /** Also fine-tune every `scheduleMs` when new labels arrived since the last run; null = no schedule. Default null. */
  scheduleMs: number | null;
  /** Human labels the holdout needs before any candidate can be judged. Default 50. */
  minHoldout: number;
}

export const DEFAULT_TRIGGER_POLICY: TriggerPolicy = { everyNewLabels: 500, scheduleMs: null, minHoldout: 50 };

export interface TriggerState {
  /** Accepted labels since the last run started. */
  newLabels: number;
  driftAlert: boolean;
  scheduleDue: boolean;
  manual: boolean;
  running: boolean;
  holdoutSize: number;
  humanExamples: number;
  /** Whether batches need human examples (minHumanShare > 0). */
  needsHuman: boolean;
}

export type TriggerDecision =
  | { action: 'none' }
  | { action: 'run'; trigger: TriggerReason }
  | { action: 'wait'; trigger: TriggerReason; reason: string };

/**
 * Precedence: manual, drift, labels, schedule. A schedule tick with no new labels does nothing (it would retrain on
 * the same data); a drift alert or a manual request runs even without new labels.
 */
export function decideTrigger(state: TriggerState, policy: TriggerPolicy): TriggerDecision {
  let trigger: TriggerReason | undefined;
  if (state.manual) trigger = 'manual';
  else if (state.driftAlert) trigger = 'drift';
  else if (state.newLabels >= policy.everyNewLabels) trigger = 'labels';
  else if (state.scheduleDue && state.newLabels > 0) trigger = 'schedule';
  if (trigger === undefined) return { action: 'none' };
  if (state.running) return { action: 'wait', trigger, reason: 'a fine-tune is running' };
  if (state.holdoutSize < policy.minHoldout)
    return {
      action: 'wait',
      trigger,
      reason: `holdout has ${state.holdoutSize} of the ${policy.minHoldout} human labels it needs`,
    };
  if (state.needsHuman && state.humanExamples === 0)
    return { action: 'wait', trigger, reason: 'no human-labelled training example yet' };
  return { action: 'run', trigger };
}
