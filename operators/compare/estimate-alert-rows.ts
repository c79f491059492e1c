/**
 * `drift_alerts` rows for a window whose estimated accuracy (CBPE) fell below its model's reference accuracy minus the
 * margin: the alert a team sees before a single label arrives. One row per model and window; a window's row is
 * re-emitted as labels come, with the same id, so the alert is never counted twice.
 */
import { compositeId, type Row } from '../../schemas/warehouse-row.ts';
import type { ModelComparison } from './compare-models.ts';

/** Below the reference by this much or more, the alert is major. */
const MAJOR_DROP = 0.1;

export function estimateAlertRows(c: ModelComparison, runId: string): Row[] {
  const models = [
    {
      id: c.model_a_id,
      versions: c.model_a,
      alert: c.estimate_alert_a,
      estimate: c.estimated_accuracy_a,
      reference: c.reference_accuracy_a,
    },
    {
      id: c.model_b_id,
      versions: c.model_b,
      alert: c.estimate_alert_b,
      estimate: c.estimated_accuracy_b,
      reference: c.reference_accuracy_b,
    },
  ];
  const realized = (id: string) => (id === c.model_a_id ? c.correct_a : c.correct_b) / c.labeled;
  const realizedNote = (id: string) =>
    c.labeled > 0 ? ` (realized so far ${realized(id).toFixed(3)} on ${c.labeled} labels)` : ', no labels yet';
  return models
    .filter((m) => m.alert === true && m.estimate !== null && m.reference !== null)
    .map((m) => ({
      id: compositeId(runId, c.pipeline, m.id, c.window_start, 'accuracy', 'accuracy_estimate'),
      // the latest emission of a window wins; labels only grow, so their count orders emissions (and, unlike the
      // emission time, is the same in every replay)
      version: c.labeled,
      run_id: runId,
      pipeline: c.pipeline,
      model_id: m.id,
      model_version: m.versions.slice(m.versions.indexOf('@') + 1),
      window_start: c.window_start,
      window_end: c.window_end,
      feature: 'accuracy',
      kind: 'accuracy_estimate',
      severity: m.reference! - m.estimate! >= MAJOR_DROP ? 'major' : 'minor',
      message:
        `estimated accuracy ${m.estimate!.toFixed(3)} (CBPE, ${c.estimate_method ?? 'calibrated'}) ` +
        `against ${m.reference!.toFixed(3)} on its reference data, from ${c.records} ` +
        `predictions${realizedNote(m.id)}`,
      event_time: c.window_end,
    }));
}
