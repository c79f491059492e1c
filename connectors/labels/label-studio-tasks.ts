/**
 * The label queue as Label Studio tasks (Label Studio's task import format): `data` holds the input a person labels
 * and the record id the labels come back with, `predictions` hold each queued model's prediction as a pre-selected
 * choice. Tasks come most uncertain first, and a prediction's `score` is 1 − uncertainty: Label Studio treats the
 * score as confidence (its uncertainty sampling and the "Prediction score" column put the lowest first), so either
 * way the most uncertain task is labelled first.
 */
import { CHOICES_NAME, type LabelStudioProject } from './label-studio-config.ts';

/** One `label_queue` row (connectors/warehouse/tables.ts): a prediction picked for labelling. */
export interface QueuedPrediction {
  record_id: string;
  model_id: string;
  model_version: string;
  /** Uncertainty in [0, 1], higher = less sure. */
  score: number;
  method: string;
  top_probability: number;
  predicted_label: number;
  reason: string;
  window_start: number;
}

export interface LabelStudioResult {
  from_name: string;
  to_name: string;
  type: 'choices';
  value: { choices: string[] };
}

export interface LabelStudioTask {
  data: Record<string, unknown>;
  predictions: { model_version: string; score: number; result: LabelStudioResult[] }[];
}

/** A Label Studio choices result naming one class. */
export function choicesResult(project: LabelStudioProject, label: number): LabelStudioResult {
  const name = project.classes[label];
  if (name === undefined) {
    const classes = project.classes.join(', ');
    throw new Error(`predicted class ${label} is not one of the ${project.pipeline} classes ${classes}`);
  }
  return { from_name: CHOICES_NAME, to_name: project.input, type: 'choices', value: { choices: [name] } };
}

/**
 * One task per record: `input` is the record's data (`text` and `title`, or `image` and `file`); `queued` are its
 * queue rows (one per model that queued it). The task's `uncertainty` is the largest of them.
 */
export function labelStudioTask(
  project: LabelStudioProject,
  input: Record<string, unknown>,
  queued: QueuedPrediction[],
): LabelStudioTask {
  const [first] = queued;
  if (!first) throw new Error('a task needs at least one queued prediction');
  const most = queued.reduce((a, b) => (b.score > a.score ? b : a));
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return {
    data: {
      ...input,
      record_id: first.record_id,
      pipeline: project.pipeline,
      uncertainty: round(most.score),
      method: most.method,
      reason: most.reason,
      queued_window: new Date(most.window_start).toISOString(),
    },
    predictions: queued.map((q) => ({
      model_version: `${q.model_id}@${q.model_version}`,
      score: round(1 - q.score),
      result: [choicesResult(project, q.predicted_label)],
    })),
  };
}

/** Most uncertain first; ties by record id, so the file is the same for the same queue. */
export function byUncertainty(a: LabelStudioTask, b: LabelStudioTask): number {
  const d = Number(b.data.uncertainty) - Number(a.data.uncertainty);
  if (d !== 0) return d;
  const x = String(a.data.record_id);
  const y = String(b.data.record_id);
  return x < y ? -1 : x > y ? 1 : 0;
}
