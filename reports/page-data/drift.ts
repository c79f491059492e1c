/**
 * Drift: Model A vs Model B on the postings pipeline's latest run — A and B on the labelled postings B scored after
 * its first promotion (after-promotion.ts), realized and estimated accuracy per window and the drift tests per feature
 * (with thresholds) on one window axis (accuracy-windows.ts, window-axis.ts) with B's promotions placed on it,
 * dataset-level drift, emerging and vanishing keywords, and Model B's fine-tunes.
 */
import { accuracyWindows, ESTIMATE_TOLERANCE, MIN_LABELLED } from './accuracy-windows.ts';
import { afterFirstPromotion, type Promotion } from './after-promotion.ts';
import { canonicalRows, num } from './canonical.ts';
import type { PageExport } from './page.ts';
import { latestRunCondition, sqlString, type Row } from '../../connectors/warehouse/warehouse-reader.ts';
import { slotOf, windowAxis, windowPosition } from './window-axis.ts';

const PIPELINE = 'postings';
/** Keywords shown per window and direction. */
const TOP_TERMS = 10;

/** `postings-b@v1,v2` or `postings-b@v1` → ['postings-b', ['v1', 'v2']]. */
export function parseModelRef(ref: string): { id: string; versions: string[] } {
  const at = ref.indexOf('@');
  if (at === -1) return { id: ref, versions: [] };
  return {
    id: ref.slice(0, at),
    versions: ref
      .slice(at + 1)
      .split(/[,+ ]+/)
      .filter(Boolean),
  };
}

export const driftPage: PageExport = {
  name: 'drift',
  tables: [
    'model_comparison',
    'drift_metrics',
    'drift_alerts',
    'keyword_skew',
    'training_runs',
    'predictions',
    'labels',
    'postings',
  ],
  async export(reader) {
    const { run, where } = await latestRunCondition(reader, PIPELINE);
    const comparison = accuracyWindows(
      canonicalRows(
        await reader.rows(
          `SELECT window_start, window_end, model_a, model_b, records, agreement, labeled, correct_a, correct_b, ` +
            `accuracy_a, accuracy_b, ` +
            `estimated_accuracy_a, estimated_accuracy_b, reference_accuracy_a, reference_accuracy_b, ` +
            `estimate_method, estimate_alert_a, estimate_alert_b ` +
            `FROM ${reader.from('model_comparison')} WHERE ${where}`,
        ),
        ['window_start', 'model_a', 'model_b'],
      ),
    );
    const metrics = canonicalRows(
      await reader.rows(
        `SELECT window_start, window_end, window_count, reference_count, model_id, model_version, feature, kind, ` +
          `test, statistic, p_value, threshold, drifted FROM ${reader.from('drift_metrics')} WHERE ${where} AND ` +
          `test <> 'skipped'`,
      ),
      ['window_start', 'feature', 'test'],
    );
    const skipped = canonicalRows(
      await reader.rows(
        `SELECT window_start, window_end, window_count FROM ${reader.from('drift_metrics')} WHERE ${where} AND ` +
          `test = 'skipped'`,
      ),
      ['window_start'],
    );
    const alerts = canonicalRows(
      await reader.rows(
        `SELECT window_start, window_end, feature, kind, severity, message FROM ${reader.from('drift_alerts')} ` +
          `WHERE ${where}`,
      ),
      ['window_start', 'feature', 'kind'],
    );
    const keywords = canonicalRows(
      await reader.rows(
        `SELECT window_start, window_end, term, direction, rank, reference_share, window_share, log_ratio ` +
          `FROM ${reader.from('keyword_skew')} WHERE ${where} AND rank <= ${TOP_TERMS}`,
      ),
      ['window_start', 'direction', 'rank', 'term'],
    );
    const training = await reader.rows(
      `SELECT model_id, candidate_version, parent, trigger, pseudo_examples, human_examples, holdout_size, ` +
        `candidate_accuracy, current_accuracy, model_a_accuracy, promoted, reason, started_at, trigger_event_time, ` +
        `in_force_from FROM ${reader.from('training_runs')} WHERE run_id = ${sqlString(run?.run_id ?? '')}`,
    );
    // Where a version took over in event time: `in_force_from` when B trained in event time (replays); for a live
    // run's hot swap, only the first window whose B predictions it made is known.
    const firstWindow = new Map<string, number>();
    for (const c of comparison) {
      const b = parseModelRef(String(c.model_b));
      for (const v of b.versions)
        if (!firstWindow.has(`${b.id}@${v}`)) firstWindow.set(`${b.id}@${v}`, num(c.window_start)!);
    }
    const trainingRows: Row[] = canonicalRows(
      training.map(({ started_at, ...t }) => ({
        ...t,
        first_window: firstWindow.get(`${t.model_id}@${t.candidate_version}`) ?? null,
        order: num(started_at),
      })),
      ['order', 'candidate_version'],
    ).map(({ order: _order, ...t }) => t);

    const modelA = comparison[0] ? parseModelRef(String(comparison[0].model_a)).id : 'postings-a';
    const modelB = comparison[0] ? parseModelRef(String(comparison[0].model_b)).id : 'postings-b';
    // One window axis for the accuracy chart and the drift tests: the windows with a realized accuracy to chart and
    // the windows tested for drift, so a window sits at the same x in each chart and empty spans take no room.
    const asWindow = (r: Row) => ({ window_start: num(r.window_start)!, window_end: num(r.window_end)! });
    const axis = windowAxis(comparison.filter((c) => c.charted).map(asWindow), metrics.map(asWindow));
    const promotions = trainingRows
      .filter(
        (t) => num(t.promoted) === 1 && t.model_id === modelB && (t.in_force_from !== null || t.first_window !== null),
      )
      .map((t) => {
        const at = num(t.in_force_from) ?? num(t.first_window)!;
        return {
          version: String(t.candidate_version),
          in_event_time: t.in_force_from !== null,
          at,
          trigger_event_time: num(t.trigger_event_time),
          position: windowPosition(axis, at),
        };
      });
    const eventTimePromotions: Promotion[] = promotions
      .filter((p) => p.in_event_time)
      .map((p) => ({ version: p.version, trigger_event_time: p.trigger_event_time, in_force_from: p.at }));
    // Drift onset: the first window whose dataset-level test drifted (else the first with any drifted feature).
    const drifted = metrics.filter((m) => num(m.drifted) === 1);
    const onsetRow = drifted.find((m) => m.kind === 'dataset') ?? drifted[0];
    const datasetLevel = onsetRow?.kind === 'dataset';
    const onsetStarts = drifted.filter((m) => !datasetLevel || m.kind === 'dataset').map((m) => num(m.window_start)!);
    const onsetStart = onsetRow ? Math.min(...onsetStarts) : null;
    const driftOnset =
      onsetStart === null
        ? null
        : { window_start: onsetStart, dataset_level: datasetLevel, position: windowPosition(axis, onsetStart) };
    const aVersions = [...new Set(comparison.flatMap((c) => parseModelRef(String(c.model_a)).versions))].sort();
    return {
      runs: run ? [run] : [],
      data: {
        pipeline: PIPELINE,
        model_a: modelA,
        model_b: modelB,
        after_promotion: await afterFirstPromotion(reader, { a: modelA, aVersions, b: modelB }, eventTimePromotions),
        comparison: comparison.map((c) => ({ ...c, slot: slotOf(axis, num(c.window_start)!) })),
        window_axis: axis,
        charted_windows: { min_labelled: MIN_LABELLED, estimate_tolerance: ESTIMATE_TOLERANCE },
        promotions: canonicalRows(promotions, ['at', 'version']),
        drift_onset: driftOnset,
        metrics,
        skipped_windows: skipped,
        alerts,
        keywords,
        training: trainingRows,
      },
    };
  },
};
