/**
 * The per-record anomaly score of a keyed stream: each record gets `anomaly` (its score in [0, 1] and the signals
 * behind it, series-detector.ts) from a detector kept per record key, i.e. per series. Online: a record is scored
 * against its series' past only. A record whose value is not a finite number gets `anomaly: null` and does not
 * enter the series' past.
 *
 * A plain function over batches for `stream.mapBatch(...)`; state is kept per key in memory (a series lives on one
 * partition, so its past stays in one place; a restart starts it afresh, with a new warm-up).
 */
import { type StreamRecord, withValue } from '../../streams/kernel/record.ts';
import {
  type AnomalySignals,
  DETECTOR_DEFAULTS,
  type DetectorOptions,
  SeriesAnomalyDetector,
} from './series-detector.ts';

export type { AnomalySignals } from './series-detector.ts';

export type WithAnomaly<T> = T & { anomaly: AnomalySignals | null };

export interface AnomalyScoreOptions<T> {
  value: (value: T) => number;
  /** Detector settings (default DETECTOR_DEFAULTS, tuned on NAB). */
  detector?: Partial<DetectorOptions>;
}

export function anomalyScores<T extends object>(
  options: AnomalyScoreOptions<T>,
): (records: StreamRecord<T>[]) => StreamRecord<WithAnomaly<T>>[] {
  const settings: DetectorOptions = { ...DETECTOR_DEFAULTS, ...options.detector };
  const detectors = new Map<string | null, SeriesAnomalyDetector>();
  return (records) =>
    records.map((record) => {
      const x = options.value(record.value);
      if (!Number.isFinite(x)) return withValue(record, { ...record.value, anomaly: null });
      let detector = detectors.get(record.key);
      if (!detector) {
        detector = new SeriesAnomalyDetector(settings);
        detectors.set(record.key, detector);
      }
      return withValue(record, { ...record.value, anomaly: detector.score(x) });
    });
}
