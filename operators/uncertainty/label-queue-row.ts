/** The `label_queue` warehouse row of a queued entry (connectors/warehouse/tables.ts). */
import { compositeId, type Row } from '../../schemas/warehouse-row.ts';
import type { LabelQueueEntry } from './uncertainty-sample.ts';

/**
 * id = record_id/model_id. Every column comes from the input and its event time, none from the wall clock, so a
 * replay yields identical rows: `queued_at` is the end of the window that queued the entry (the stream time at
 * which it was decided), and so is `version`, so if an item is queued again later (after the operator forgot it,
 * e.g. on a restart) the later window's row wins.
 */
export function labelQueueRow(entry: LabelQueueEntry): Row {
  return {
    id: compositeId(entry.recordId, entry.modelId),
    version: entry.windowEnd,
    record_id: entry.recordId,
    pipeline: entry.pipeline,
    model_id: entry.modelId,
    model_version: entry.modelVersion,
    window_start: entry.windowStart,
    window_end: entry.windowEnd,
    method: entry.method,
    score: entry.score,
    top_probability: entry.topProbability,
    predicted_label: entry.predictedLabel,
    reason: entry.reason,
    payload_ref: entry.payloadRef,
    queued_at: entry.windowEnd,
  };
}
