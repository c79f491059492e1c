import {
  aString,
  nonNegativeInteger,
  type OptionRules,
  positiveInteger,
  positiveNumber,
} from '../../config/pipeline-options.ts';
import { type CameraDrift, parseCameraDrift } from '../../connectors/camera/camera-drift.ts';

/**
 * The `frames` pipeline's options (`--config`: `{"pipelines": {"frames": {...}}}`), each checked at start-up. Defaults
 * in brackets.
 */
export interface FramesOptions {
  /** Side of the normalized frame; must match the model when one runs [the model's input size, else 64]. */
  size?: number;
  /** Registry id of the frame model ["frames-cnn"]. */
  model?: string;
  /** Count windows (drift and labelling) over the whole stream, in frames [500]. */
  driftWindowFrames?: number;
  /** Event-time tumbling windows of this many seconds instead of count windows [none]. */
  driftWindowSeconds?: number;
  /** Drift windows with fewer frames are reported as skipped [the window's frame count; 500 with time windows]. */
  driftMinWindow?: number;
  /** Frames queued for labelling per window [20]. */
  labelBudget?: number;
  /** A simulated camera fault, applied where frames enter the pipeline (connectors/camera/camera-drift.ts) [none]. */
  drift?: CameraDrift;
}

export const framesOptionRules: OptionRules<FramesOptions> = {
  size: positiveInteger,
  model: aString,
  driftWindowFrames: positiveInteger,
  driftWindowSeconds: positiveNumber,
  driftMinWindow: positiveInteger,
  labelBudget: nonNegativeInteger,
  drift: parseCameraDrift,
};
