/**
 * Drift: Model A vs Model B on the postings pipeline's latest run — accuracy and agreement per window, drift tests per
 * feature with thresholds, dataset-level drift, emerging and vanishing keywords, Model B's fine-tunes (and the first
 * window each promoted version scored), and labelled postings where A is wrong and B right.
 */
import { canonicalRows, num } from './canonical.ts';
import type { PageExport } from './page.ts';
import { latestRunCondition, sqlString, type Row, type WarehouseReader } from './warehouse-reader.ts';

const PIPELINE = 'postings';
/** Keywords shown per window and direction. */
const TOP_TERMS = 10;
/** Examples listed. */
const EXAMPLES = 25;

/** `postings-b@v1,v2` or `postings-b@v1` → ['postings-b', ['v1', 'v2']]. */
export function parseModelRef(ref: string): { id: string; versions: string[] } {
  const at = ref.indexOf('@');
  if (at === -1) return { id: ref, versions: [] };
  return { id: ref.slice(0, at), versions: ref.slice(at + 1).split(/[,+ ]+/).filter(Boolean) };
}

/** Per record and model, the prediction made last (re-runs may have scored a record with several versions). */
export function latestPredictions(rows: Row[]): Map<string, Map<string, Row>> {
  const out = new Map<string, Map<string, Row>>();
  for (const r of rows) {
    const byModel = out.get(String(r.record_id)) ?? new Map<string, Row>();
    const current = byModel.get(String(r.model_id));
    const later = !current || (num(r.predicted_at) ?? 0) > (num(current.predicted_at) ?? 0) || ((num(r.predicted_at) ?? 0) === (num(current.predicted_at) ?? 0) && String(r.model_version) > String(current.model_version));
    if (later) byModel.set(String(r.model_id), r);
    out.set(String(r.record_id), byModel);
  }
  return out;
}

/** Labelled records scored by both models: outcome counts, and the records where A is wrong and B right. */
export function compareOnLabels(labels: Row[], predictions: Map<string, Map<string, Row>>, modelA: string, modelB: string) {
  const counts = { both_right: 0, a_wrong_b_right: 0, a_right_b_wrong: 0, both_wrong: 0 };
  const aFailsBSucceeds: { record_id: string; label: number; label_name: unknown; a_label: number; b_label: number; a_version: unknown; b_version: unknown; b_confidence: number | null }[] = [];
  for (const l of labels) {
    const byModel = predictions.get(String(l.record_id));
    const a = byModel?.get(modelA);
    const b = byModel?.get(modelB);
    if (!a || !b) continue;
    const [aRight, bRight] = [num(a.label) === num(l.label), num(b.label) === num(l.label)];
    if (aRight && bRight) counts.both_right++;
    else if (!aRight && bRight) counts.a_wrong_b_right++;
    else if (aRight) counts.a_right_b_wrong++;
    else counts.both_wrong++;
    if (!aRight && bRight) aFailsBSucceeds.push({ record_id: String(l.record_id), label: num(l.label)!, label_name: l.label_name ?? null, a_label: num(a.label)!, b_label: num(b.label)!, a_version: a.model_version, b_version: b.model_version, b_confidence: num(b.confidence) });
  }
  return { counts, aFailsBSucceeds };
}

async function examples(reader: WarehouseReader, modelA: string, modelB: string) {
  const labels = await reader.rows(`SELECT record_id, label, label_name FROM ${reader.from('labels')}`);
  const predictions = await reader.rows(
    `SELECT record_id, model_id, model_version, label, confidence, predicted_at FROM ${reader.from('predictions')} ` +
      `WHERE model_id IN (${sqlString(modelA)}, ${sqlString(modelB)}) AND record_id IN (SELECT record_id FROM ${reader.from('labels')})`,
  );
  const { counts, aFailsBSucceeds } = compareOnLabels(labels, latestPredictions(predictions), modelA, modelB);
  const ids = aFailsBSucceeds.map((e) => e.record_id);
  const postings = new Map<string, Row>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    for (const p of await reader.rows(`SELECT id, title, company, source, posted_at FROM ${reader.from('postings')} WHERE id IN (${chunk.map(sqlString).join(', ')})`)) postings.set(String(p.id), p);
  }
  const listed = aFailsBSucceeds
    .filter((e) => postings.has(e.record_id))
    .map((e) => {
      const p = postings.get(e.record_id)!;
      return { ...e, title: p.title, company: p.company ?? null, source: p.source, posted_at: p.posted_at ?? null };
    });
  return { counts, examples: canonicalRows(listed, ['-posted_at', 'record_id']).slice(0, EXAMPLES) };
}

export const driftPage: PageExport = {
  name: 'drift',
  tables: ['model_comparison', 'drift_metrics', 'drift_alerts', 'keyword_skew', 'training_runs', 'predictions', 'labels', 'postings'],
  async export(reader) {
    const { run, where } = await latestRunCondition(reader, PIPELINE);
    const comparison = canonicalRows(
      await reader.rows(`SELECT window_start, window_end, model_a, model_b, records, agreement, labeled, correct_a, correct_b, accuracy_a, accuracy_b FROM ${reader.from('model_comparison')} WHERE ${where}`),
      ['window_start', 'model_a', 'model_b'],
    );
    const metrics = canonicalRows(
      await reader.rows(`SELECT window_start, window_end, window_count, reference_count, model_id, model_version, feature, kind, test, statistic, p_value, threshold, drifted FROM ${reader.from('drift_metrics')} WHERE ${where} AND test <> 'skipped'`),
      ['window_start', 'feature', 'test'],
    );
    const skipped = canonicalRows(await reader.rows(`SELECT window_start, window_end, window_count FROM ${reader.from('drift_metrics')} WHERE ${where} AND test = 'skipped'`), ['window_start']);
    const alerts = canonicalRows(await reader.rows(`SELECT window_start, window_end, feature, kind, severity, message FROM ${reader.from('drift_alerts')} WHERE ${where}`), ['window_start', 'feature', 'kind']);
    const keywords = canonicalRows(
      await reader.rows(`SELECT window_start, window_end, term, direction, rank, reference_share, window_share, log_ratio FROM ${reader.from('keyword_skew')} WHERE ${where} AND rank <= ${TOP_TERMS}`),
      ['window_start', 'direction', 'rank', 'term'],
    );
    const training = await reader.rows(
      `SELECT model_id, candidate_version, parent, trigger, pseudo_examples, human_examples, holdout_size, candidate_accuracy, current_accuracy, model_a_accuracy, promoted, reason, started_at FROM ${reader.from('training_runs')} WHERE run_id = ${sqlString(run?.run_id ?? '')}`,
    );
    // Fine-tunes happen in wall-clock time; the charts are in event time. A promoted version's place on them is the
    // first window whose B predictions it made.
    const firstWindow = new Map<string, number>();
    for (const c of comparison) {
      const b = parseModelRef(String(c.model_b));
      for (const v of b.versions) if (!firstWindow.has(`${b.id}@${v}`)) firstWindow.set(`${b.id}@${v}`, num(c.window_start)!);
    }
    const trainingRows = canonicalRows(
      training.map(({ started_at, ...t }) => ({ ...t, first_window: firstWindow.get(`${t.model_id}@${t.candidate_version}`) ?? null, order: num(started_at) })),
      ['order', 'candidate_version'],
    ).map(({ order: _order, ...t }) => t);

    const modelA = comparison[0] ? parseModelRef(String(comparison[0].model_a)).id : 'postings-a';
    const modelB = comparison[0] ? parseModelRef(String(comparison[0].model_b)).id : 'postings-b';
    return {
      runs: run ? [run] : [],
      data: { pipeline: PIPELINE, model_a: modelA, model_b: modelB, comparison, metrics, skipped_windows: skipped, alerts, keywords, training: trainingRows, ...(await examples(reader, modelA, modelB)) },
    };
  },
};
