import { compositeId, type Row } from '../../connectors/warehouse/tables.ts';
import type { Prediction } from '../../schemas/prediction.ts';

/**
 * The `predictions` row of one model's output for one record. The version is the record's event time, so a replay
 * writes the same row again; `predicted_at` and `latency_ms` are the wall-clock columns.
 */
export const predictionRow = (p: Prediction, eventTime: number): Row => ({
  id: compositeId(p.record_id, p.model_id, p.model_version),
  version: Math.max(0, Math.trunc(eventTime)),
  record_id: p.record_id,
  model_id: p.model_id,
  model_version: p.model_version,
  label: p.label,
  probabilities: p.probabilities,
  confidence: p.confidence,
  latency_ms: p.latency_ms,
  predicted_at: p.predicted_at,
});
