/**
 * Label Studio's JSON export (Export → JSON, or `GET /api/projects/<id>/export?exportType=JSON`): a JSON array of
 * tasks, each with its `data`, `annotations` and `predictions`. A task becomes one label in the file format
 * (label-format.ts), so it is validated like any other entry:
 *
 *   record_id   data.record_id (put there by `driftline label export`)
 *   label       the annotation's choice (a class name)
 *   source      the annotator: completed_by's email (or its user id, `label-studio-user:<id>`, when the export
 *               gives only the id)
 *   labeled_at  the annotation's updated_at
 *
 * Which annotation: the one marked ground truth, else the latest updated. Cancelled (skipped) annotations are no
 * label; a task with no other annotation has no label yet and is counted, not dead-lettered.
 */
/**
 * The `<Choices>` tag's name in the exported labelling configs (label-studio-config.ts): `from_name` of every
 * prediction and annotation result. Defined here, where nothing else is imported, so the label format can read
 * Label Studio exports without importing the pipelines the configs name.
 */
export const CHOICES_NAME = 'label';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A Label Studio task: an object with a `data` object and an `annotations` array. */
export function isLabelStudioTask(value: unknown): value is Json {
  return isObject(value) && isObject(value.data) && Array.isArray(value.annotations);
}

/**
 * The task's label as a file-format entry, or null when it has no (uncancelled) annotation yet. Throws with a
 * reason a person understands when the task cannot give a label.
 */
export function labelFromLabelStudioTask(task: Json): Json | null {
  const where = `Label Studio task ${typeof task.id === 'number' ? task.id : '(no id)'}`;
  const data = task.data as Json;
  const annotations = (task.annotations as unknown[]).filter((a): a is Json => isObject(a) && a.was_cancelled !== true);
  if (annotations.length === 0) return null;
  if (data.record_id === undefined || data.record_id === null) {
    const why = 'the task was not made by driftline label export, which puts the record id there';
    throw new Error(`${where}: data.record_id is missing (${why})`);
  }
  const annotation = chooseAnnotation(annotations);
  return {
    record_id: data.record_id,
    label: choice(annotation, where),
    source: annotator(annotation.completed_by, where),
    labeled_at: annotation.updated_at ?? annotation.created_at,
  };
}

/** The ground-truth annotation, else the latest updated (ISO times of one format compare as text). */
function chooseAnnotation(annotations: Json[]): Json {
  const truth = annotations.find((a) => a.ground_truth === true);
  if (truth) return truth;
  const time = (a: Json) => String(a.updated_at ?? a.created_at ?? '');
  return annotations.reduce((a, b) => (time(b) > time(a) ? b : a));
}

function choice(annotation: Json, where: string): string {
  const results = Array.isArray(annotation.result) ? annotation.result.filter(isObject) : [];
  const choices = results.filter((r) => r.type === 'choices');
  const result = choices.find((r) => r.from_name === CHOICES_NAME) ?? choices[0];
  const picked = isObject(result?.value) && Array.isArray(result.value.choices) ? result.value.choices : [];
  if (picked.length !== 1 || typeof picked[0] !== 'string') {
    const what = picked.length === 0 ? 'no class chosen' : `${picked.length} classes chosen (${picked.join(', ')})`;
    const need = `a label needs exactly one (the "${CHOICES_NAME}" choices of the exported config)`;
    throw new Error(`${where}: annotation ${String(annotation.id)} has ${what}; ${need}`);
  }
  return picked[0];
}

/** completed_by is the user id, or (in some exports) the user object. */
function annotator(completedBy: unknown, where: string): string {
  if (isObject(completedBy)) {
    if (typeof completedBy.email === 'string' && completedBy.email !== '') return completedBy.email;
    completedBy = completedBy.id;
  }
  if (typeof completedBy === 'number' || (typeof completedBy === 'string' && completedBy !== '')) {
    return `label-studio-user:${completedBy}`;
  }
  throw new Error(`${where}: the annotation has no completed_by (who labelled it)`);
}
