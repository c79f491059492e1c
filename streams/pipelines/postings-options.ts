import {
  aBoolean,
  aString,
  nonNegativeInteger,
  nonNegativeNumber,
  oneOf,
  type OptionRules,
  positiveInteger,
  positiveNumber,
  shareOfOne,
} from '../../config/pipeline-options.ts';

/**
 * The `postings` pipeline's options (`--config`: `{"pipelines": {"postings": {...}}}`), each checked at start-up.
 * All but the model ids apply to the ML branch, which runs when Model A is registered. Defaults in brackets.
 */
export interface PostingsOptions {
  /**
   * Tumbling window of the ML stages (drift, labelling budget, pseudo-labels, A vs B), in days of posting time [30].
   */
  windowDays?: number;
  /** How long after newer postings a posting may still come and count in its window, in days [windowDays]. */
  latenessDays?: number;
  /** Postings queued for labelling per window, where Model B is least sure [20]. */
  labelBudget?: number;
  /** Model A's confidence from which a prediction becomes a pseudo-label, in (0, 1] [0.9]. */
  pseudoThreshold?: number;
  /** Drift windows with fewer postings are reported as skipped [100]. */
  minWindowSize?: number;
  /**
   * What drift is measured against: Model A's reference profile, or the stream's first `warmUpRecords` postings
   * ["model"].
   */
  driftReference?: 'model' | 'warm-up';
  /** Postings of the warm-up reference, with `driftReference: "warm-up"` [5000]. */
  warmUpRecords?: number;
  /** Fine-tune Model B as labels and pseudo-labels arrive; false: B runs as registered (or as a copy of A) [true]. */
  train?: boolean;
  /** New labels between two fine-tunes of Model B [200]. */
  retrainEvery?: number;
  /**
   * When B's new versions take effect: at the event time a fine-tune was triggered, or when it finishes ["event-time"
   * in replays, else "wall"].
   */
  trainingClock?: 'event-time' | 'wall';
  /** Registry id of Model A ["postings-a"]. */
  modelA?: string;
  /** Registry id of Model B ["postings-b"]. */
  modelB?: string;
}

export const postingsOptionRules: OptionRules<PostingsOptions> = {
  windowDays: positiveNumber,
  latenessDays: nonNegativeNumber,
  labelBudget: nonNegativeInteger,
  pseudoThreshold: shareOfOne,
  minWindowSize: positiveInteger,
  driftReference: oneOf('model', 'warm-up'),
  warmUpRecords: positiveInteger,
  train: aBoolean,
  retrainEvery: positiveInteger,
  trainingClock: oneOf('event-time', 'wall'),
  modelA: aString,
  modelB: aString,
};
