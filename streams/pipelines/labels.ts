import { readFile } from 'node:fs/promises';
import { nonEmptyStrings, type OptionRules } from '../../config/pipeline-options.ts';
import { basename } from 'node:path';
import {
  decodeLabel,
  encodeLabel,
  type LabelFormatOptions,
  parseLabels,
} from '../../connectors/labels/label-format.ts';
import { DEFAULT_LABEL_CLASSES, type Label } from '../../schemas/label.ts';
import type { Message } from '../kernel/transport/transport.ts';
import type { Row } from '../../connectors/warehouse/tables.ts';
import { Pipeline } from '../kernel/pipeline.ts';
import { pipelineDeadLetters } from './dead-letters.ts';
import type { PipelineDefinition } from './pipeline-definition.ts';

// The default classes for labels given by name live with the Label type (schemas/label.ts).
export { DEFAULT_LABEL_CLASSES };

/** Set on a message `read` could not make a label of: the pipeline dead-letters it with this reason. */
const READ_ERROR_HEADER = 'driftline.label-error';

/** The `labels` pipeline's options (`--config`: `{"pipelines": {"labels": {...}}}`), checked at start-up. */
export interface LabelsOptions {
  /** Class names, in class-index order, for labels given by name [the postings classes, DEFAULT_LABEL_CLASSES]. */
  classes?: string[];
}

const labelsOptionRules: OptionRules<LabelsOptions> = { classes: nonEmptyStrings };

/** The `labels` warehouse row: one per record; a later label (by labeled_at) replaces an earlier one. */
export const labelRow = (l: Label, receivedAt: number): Row => ({
  id: l.record_id,
  version: l.labeled_at,
  record_id: l.record_id,
  label: l.label,
  label_name: l.label_name,
  source: l.source,
  labeled_at: l.labeled_at,
  received_at: receivedAt,
});

/** Label files as messages: valid labels in topic form, bad entries as their original bytes, marked with the reason. */
async function* readLabelFiles(files: string[], options: LabelFormatOptions): AsyncIterable<Message[]> {
  for (const file of files) {
    const now = Date.now();
    const { labels, errors } = parseLabels(await readFile(file), { ...options, source: `file:${basename(file)}`, now });
    const bad = errors.map(
      (e): Message => ({
        key: null,
        value: e.original,
        timestamp: now,
        headers: { [READ_ERROR_HEADER]: `${basename(file)}:${e.line}: ${e.reason}` },
      }),
    );
    yield [...labels.map(encodeLabel), ...bad];
  }
}

/**
 * labels (driftline label import, or any producer of the documented JSON) → decode + validate → warehouse.labels
 *                                                                          ↘ dead letters (dead_letters, labels.dlq)
 */
export const labelsPipeline: PipelineDefinition<LabelsOptions> = {
  name: 'labels',
  description: 'Ground-truth labels (driftline label import, late human labels) → the warehouse labels table',
  inputTopic: 'labels',
  partitions: 1,
  options: labelsOptionRules,
  acceptsFile: (path) => /\.(jsonl|ndjson|json)$/i.test(path),
  read: (files) => readLabelFiles(files, { classes: DEFAULT_LABEL_CLASSES }),
  build(source, context) {
    const format: LabelFormatOptions = {
      classes: context.options.classes ?? DEFAULT_LABEL_CLASSES,
      source: 'labels-topic',
    };
    const p = new Pipeline('labels').deadLetters(pipelineDeadLetters(context, 'labels'));
    p.from(source)
      .map('decode', (bytes, record) => {
        const problem = record.headers[READ_ERROR_HEADER];
        if (problem !== undefined) throw new Error(problem);
        return decodeLabel(bytes, { ...format, now: record.eventTime });
      })
      .to(context.warehouse.sink<Label>('labels', (r) => labelRow(r.value, Date.now())));
    return p;
  },
};
