/**
 * Active learning on the postings pipeline: the labelling queue per window, the uncertainty of what was queued, labels
 * received over time, the most uncertain queued postings (with their titles and whether a label came), pseudo-label
 * accept rates, and what labels did for Model B (its fine-tunes on the latest run, accuracy by examples used).
 */
import { className } from './after-promotion.ts';
import { canonicalRows, num } from './canonical.ts';
import { postingHeading } from './posting-heading.ts';
import type { PageExport } from './page.ts';
import { latestRunCondition, sqlString, type Row } from '../../connectors/warehouse/warehouse-reader.ts';

const PIPELINE = 'postings';
const DAY = 86_400_000;
/** Queued postings listed, most uncertain first. */
const QUEUE_LISTED = 25;

/** Labels per UTC day and source. */
export function labelsPerDay(rows: Row[]): { day: number; source: string; labels: number }[] {
  const counts = new Map<string, { day: number; source: string; labels: number }>();
  for (const r of rows) {
    const day = Math.floor((num(r.labeled_at) ?? 0) / DAY) * DAY;
    const key = `${day}/${String(r.source)}`;
    const entry = counts.get(key) ?? { day, source: String(r.source), labels: 0 };
    entry.labels++;
    counts.set(key, entry);
  }
  return [...counts.values()];
}

export const activeLearningPage: PageExport = {
  name: 'active-learning',
  tables: ['label_queue', 'labels', 'postings', 'pseudo_label_windows', 'training_runs'],
  async export(reader) {
    const { run, where } = await latestRunCondition(reader, PIPELINE);
    const queuePerWindow = canonicalRows(
      await reader.rows(
        `SELECT window_start, window_end, method, count(*) AS queued FROM ${reader.from('label_queue')} WHERE ` +
          `pipeline = ${sqlString(PIPELINE)} GROUP BY window_start, window_end, method`,
      ),
      ['window_start', 'method'],
    );
    const uncertainty = canonicalRows(
      (
        await reader.rows(
          `SELECT window_start, method, score, top_probability, predicted_label FROM ${reader.from('label_queue')} ` +
            `WHERE pipeline = ${sqlString(PIPELINE)}`,
        )
      ).map((u) => ({ ...u, predicted_class: className(num(u.predicted_label)) })),
      ['window_start', '-score'],
    );
    const labelRows = await reader.rows(`SELECT record_id, labeled_at, source FROM ${reader.from('labels')}`);
    const labelled = new Set(labelRows.map((l) => String(l.record_id)));

    const queued = canonicalRows(
      await reader.rows(
        `SELECT record_id, model_id, model_version, window_start, method, score, top_probability, predicted_label, ` +
          `reason FROM ${reader.from('label_queue')} WHERE pipeline = ${sqlString(PIPELINE)}`,
      ),
      ['-score', 'record_id'],
    ).slice(0, QUEUE_LISTED);
    const titles = new Map<string, Row>();
    if (queued.length > 0) {
      for (const p of await reader.rows(
        `SELECT id, title, company, description FROM ${reader.from('postings')} WHERE id IN ` +
          `(${queued.map((q) => sqlString(String(q.record_id))).join(', ')})`,
      ))
        titles.set(String(p.id), p);
    }
    // What a labeller needs: the record id to label, what the posting is, B's class by name and how unsure it was.
    const queueItems = queued.map((q) => {
      const posting = titles.get(String(q.record_id));
      return {
        ...q,
        ...(posting ? postingHeading(posting) : { heading: null, company: null, excerpt: '' }),
        predicted_class: className(num(q.predicted_label)),
        labelled: labelled.has(String(q.record_id)),
      };
    });
    const [waiting] = await reader.rows(
      `SELECT count(*) AS n FROM ${reader.from('label_queue')} WHERE pipeline = ${sqlString(PIPELINE)} AND ` +
        `record_id NOT IN (SELECT record_id FROM ${reader.from('labels')})`,
    );

    const pseudo = canonicalRows(
      await reader.rows(
        `SELECT window_start, window_end, predictions, confident, accepted, rejected_class_cap, ` +
          `rejected_drift_pause, rejected_own_model, accept_rate, alarm, paused ` +
          `FROM ${reader.from('pseudo_label_windows')} WHERE ${where}`,
      ),
      ['window_start'],
    );
    const training = canonicalRows(
      await reader.rows(
        `SELECT candidate_version, trigger, pseudo_examples, human_examples, holdout_size, candidate_accuracy, ` +
          `current_accuracy, model_a_accuracy, promoted, started_at FROM ${reader.from('training_runs')} WHERE ` +
          `run_id = ${sqlString(run?.run_id ?? '')}`,
      ),
      ['started_at', 'candidate_version'],
    ).map(({ started_at: _started, ...t }) => t);

    return {
      runs: run ? [run] : [],
      data: {
        pipeline: PIPELINE,
        queue_per_window: queuePerWindow,
        uncertainty,
        labels_per_day: canonicalRows(labelsPerDay(labelRows), ['day', 'source']),
        labels_total: labelRows.length,
        queue_items: queueItems,
        awaiting_label: num(waiting?.n) ?? 0,
        classes: [0, 1].map((label) => className(label)),
        pseudo_label_windows: pseudo,
        training,
      },
    };
  },
};
