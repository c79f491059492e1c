import {
  aString,
  nonNegativeNumber,
  oneOf,
  type OptionRules,
  positiveInteger,
  positiveNumber,
  shareOfOne,
} from '../../config/pipeline-options.ts';

/**
 * The `events` pipeline's options (`--config`: `{"pipelines": {"events": {...}}}`), each checked at start-up. Defaults
 * in brackets.
 */
export interface EventsOptions {
  /** Tumbling window of the per-series statistics (`events.windows`), in minutes [60]. */
  windowMinutes?: number;
  /** How late an event may come and still count in its window, in minutes [0]. */
  allowedLatenessMinutes?: number;
  /**
   * Whose clock closes a statistics window ["partition"]: the partition's (a series lagging behind another in the same
   * partition finds its windows closed: late records), or each series' own ("key", as Quix Streams does), for
   * independent series interleaved out of order. Files and folders are already read in event-time order.
   */
  eventTime?: 'partition' | 'key';
  /**
   * With eventTime "key": how far a series' windows may trail the partition's clock before they close, in minutes [no
   * bound].
   */
  maxSeriesLagMinutes?: number;
  /** A series silent this long (wall clock) has its open windows closed, in seconds [30]. */
  idleTimeoutSeconds?: number;
  /** Events of the rolling mean, standard deviation and z-score [12]. */
  rollingEvents?: number;
  /** Events per drift window, per series [288]. */
  driftWindowEvents?: number;
  /** A series' first events, the reference its drift windows are compared with [1000]. */
  referenceEvents?: number;
  /** Change detector on the rolling z-score ["adwin"]. */
  changeDetector?: 'adwin' | 'page_hinkley';
  /**
   * Anomaly score from which an event is an `anomaly_alerts` row, in (0, 1] [0.45, operators/anomaly
   * DEFAULT_ALERT_THRESHOLD].
   */
  anomalyThreshold?: number;
  /** NAB-style labelled anomaly windows to score alerts against [NAB's under DRIFTLINE_DATA_DIR, when there]. */
  labelsFile?: string;
}

export const eventsOptionRules: OptionRules<EventsOptions> = {
  windowMinutes: positiveNumber,
  allowedLatenessMinutes: nonNegativeNumber,
  eventTime: oneOf('partition', 'key'),
  maxSeriesLagMinutes: positiveNumber,
  idleTimeoutSeconds: nonNegativeNumber,
  rollingEvents: positiveInteger,
  driftWindowEvents: positiveInteger,
  referenceEvents: positiveInteger,
  changeDetector: oneOf('adwin', 'page_hinkley'),
  anomalyThreshold: shareOfOne,
  labelsFile: aString,
};
