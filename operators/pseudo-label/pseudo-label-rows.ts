/** Warehouse rows: `pseudo_labels` (accepted examples) and `pseudo_label_windows` (per-window accounting). */
import { compositeId, type Row } from '../../schemas/warehouse-row.ts';
import type { PseudoLabel, PseudoLabelWindow } from './pseudo-label.ts';

export function pseudoLabelRow(p: PseudoLabel<unknown>, pipeline: string): Row {
  return {
    id: p.recordId,
    version: p.windowStart,
    record_id: p.recordId,
    pipeline,
    source_model_id: p.sourceModelId,
    source_model_version: p.sourceModelVersion,
    label: p.label,
    confidence: p.confidence,
    window_start: p.windowStart,
    accepted_at: p.windowStart,
  };
}

export function pseudoLabelWindowRow(w: PseudoLabelWindow, runId: string): Row {
  return {
    id: compositeId(runId, w.pipeline, w.windowStart),
    version: w.windowEnd,
    run_id: runId,
    pipeline: w.pipeline,
    window_start: w.windowStart,
    window_end: w.windowEnd,
    predictions: w.predictions,
    confident: w.confident,
    accepted: w.accepted,
    rejected_class_cap: w.rejectedClassCap,
    rejected_drift_pause: w.rejectedDriftPause,
    rejected_own_model: w.rejectedOwnModel,
    accept_rate: w.acceptRate,
    alarm: w.alarm ? 1 : 0,
    paused: w.paused ? 1 : 0,
  };
}
