/**
 * One training example for Model B: a posting's text with a label and where the label came from. Examples carry
 * text, not features: the fine-tune worker featurizes them (features.ts), so the input is always computed by the
 * same featurizer the model runs with, and the CPU cost stays off the event loop.
 */
import { sha256 } from '../registry/lineage.ts';
import type { PostingText } from '../postings/features.ts';
import { CLASSES } from '../postings/train.ts';

export type ExampleSource = 'pseudo' | 'human';

export interface TrainingExample {
  /** The posting id (the `record_id` of its predictions and labels). */
  record_id: string;
  text: PostingText;
  /** Class index: 0 = software engineering, 1 = data science. */
  label: number;
  source: ExampleSource;
  /** Who labelled it: `id@version` of the model for a pseudo-label, the labeller (user, file) for a human one. */
  source_model: string;
  /** When the label was produced, epoch ms. */
  event_time: number;
}

/**
 * Why an example cannot be used, or undefined when it can. Model B never labels its own training data: an example
 * whose source is the model being trained (`modelB` or `modelB@<version>`) is refused.
 */
export function exampleProblem(example: TrainingExample, modelB: string): string | undefined {
  if (typeof example.record_id !== 'string' || example.record_id === '') return 'record_id is empty';
  if (!Number.isInteger(example.label) || example.label < 0 || example.label >= CLASSES.length)
    return `label ${example.label} is not a class index (0..${CLASSES.length - 1})`;
  if (example.source !== 'pseudo' && example.source !== 'human')
    return `source "${String(example.source)}" is neither pseudo nor human`;
  if (typeof example.source_model !== 'string' || example.source_model === '') return 'source_model is empty';
  if (example.source_model === modelB || example.source_model.startsWith(`${modelB}@`))
    return `labelled by ${example.source_model}: ${modelB} never labels its own training data`;
  if (typeof example.text?.title !== 'string' || typeof example.text?.description !== 'string')
    return 'text needs a title and a description';
  return undefined;
}

/**
 * Lineage hash of a training set: sha256 over its `record_id<TAB>label` lines in record_id order, so the same
 * examples with the same labels give the same hash whatever order they arrived in.
 */
export function trainingSetHash(examples: ReadonlyArray<Pick<TrainingExample, 'record_id' | 'label'>>): string {
  const lines = examples.map((e) => `${e.record_id}\t${e.label}\n`);
  lines.sort();
  return sha256(lines.join(''));
}
