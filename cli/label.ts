import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { commandSettings } from '../config/settings.ts';
import { deadLetterTopicSink } from '../streams/kernel/transport/dead-letter-topic-sink.ts';
import { encodeLabel, type LabelError, parseLabels } from '../connectors/labels/label-format.ts';
import { type LabelQueueExport, readLabelQueue } from '../connectors/labels/label-queue.ts';
import {
  labelStudioConfig,
  type LabelStudioProject,
  labelStudioProject,
} from '../connectors/labels/label-studio-config.ts';
import { openTransport } from '../connectors/open-transport.ts';
import type { Transport } from '../streams/kernel/transport/transport.ts';
import { openWarehouse } from '../connectors/warehouse/warehouse.ts';
import { warehouseReader } from '../connectors/warehouse/warehouse-reader.ts';
import { DEFAULT_LABEL_CLASSES, labelsPipeline } from '../streams/pipelines/labels.ts';
import { topicName } from '../streams/pipelines/pipeline-definition.ts';
import type { DeadLetter, StreamRecord } from '../streams/kernel/record.ts';

export interface LabelImportOptions {
  /** Comma-separated class names, index order (default: the postings classes). */
  classes?: string;
  /** `source` for entries that name none (default `file:<file name>`). */
  source?: string;
  quiet?: boolean;
}

export interface LabelImportResult {
  imported: number;
  invalid: number;
  topic: string;
  deadLetterTopic: string;
}

const SEND_BATCH = 1_000;

/**
 * Publishes a label file's valid labels to `topic` (key = record_id) and its bad entries to `deadLetterTopic`
 * (original bytes, reason and file:line in the dead-letter headers). Returns what was parsed.
 */
export async function importLabels(
  transport: Transport,
  target: { file: string; bytes: Buffer; topic: string; deadLetterTopic: string; partitions?: number },
  format: { classes: readonly string[]; source?: string; now?: number },
): Promise<{ imported: number; errors: LabelError[]; unlabelled: number }> {
  const now = format.now ?? Date.now();
  const { labels, errors, unlabelled } = parseLabels(target.bytes, {
    classes: format.classes,
    source: format.source ?? `file:${basename(target.file)}`,
    now,
  });
  if (labels.length > 0) {
    await transport.ensureTopic(target.topic, target.partitions ?? 1);
    const producer = await transport.producer();
    try {
      for (let i = 0; i < labels.length; i += SEND_BATCH)
        await producer.send(target.topic, labels.slice(i, i + SEND_BATCH).map(encodeLabel));
    } finally {
      await producer.close();
    }
  }
  if (errors.length > 0) {
    const sink = deadLetterTopicSink(transport, target.deadLetterTopic);
    // Position = the file and line, so `dlq.topic`/`dlq.offset` point a person at the entry to fix.
    const letters: StreamRecord<DeadLetter>[] = errors.map((e) => {
      const letter: DeadLetter = {
        stage: 'label-import',
        error: e.reason,
        position: { topic: `file:${target.file}`, partition: 0, offset: e.line },
        key: null,
        original: e.original,
        eventTime: now,
        failedAt: now,
      };
      return { key: null, value: letter, eventTime: now, headers: {}, position: letter.position };
    });
    try {
      await sink.write(letters);
    } finally {
      await sink.close?.();
    }
  }
  return { imported: labels.length, errors, unlabelled };
}

/** `driftline label import <file>`: fails (exit 1) only when the file is unreadable or holds no valid label. */
export async function labelImportCommand(file: string, options: LabelImportOptions = {}): Promise<LabelImportResult> {
  const settings = commandSettings();
  const classes = options.classes
    ? options.classes
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean)
    : DEFAULT_LABEL_CLASSES;
  if (classes.length === 0) throw new Error('--classes needs at least one class name');
  const path = resolve(file);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(`cannot read label file ${file}: ${(error as Error).message}`);
  }
  const topic = topicName({ settings }, labelsPipeline.inputTopic);
  const deadLetterTopic = topicName({ settings }, `${labelsPipeline.inputTopic}.dlq`);
  const transport = openTransport(settings);
  let result: { imported: number; errors: LabelError[]; unlabelled: number };
  try {
    result = await importLabels(
      transport,
      { file: path, bytes, topic, deadLetterTopic, partitions: labelsPipeline.partitions },
      { classes, source: options.source },
    );
  } finally {
    await transport.close();
  }
  const { imported, errors, unlabelled } = result;
  if (!options.quiet) {
    process.stderr.write(`imported ${imported} labels from ${file} to ${transport.kind} topic ${topic}\n`);
    if (unlabelled > 0)
      process.stderr.write(
        `${unlabelled} Label Studio tasks have no annotation yet (or were skipped): no label from them\n`,
      );
    if (errors.length > 0) {
      process.stderr.write(`${errors.length} invalid entries dead-lettered to ${deadLetterTopic}:\n`);
      for (const e of errors.slice(0, 20)) process.stderr.write(`  ${basename(file)}:${e.line}: ${e.reason}\n`);
      if (errors.length > 20) process.stderr.write(`  … and ${errors.length - 20} more\n`);
    }
  }
  if (imported === 0) {
    let why = 'the file is empty';
    if (errors.length > 0) why = `${errors.length} invalid entries, see ${deadLetterTopic}`;
    else if (unlabelled > 0) why = `its ${unlabelled} Label Studio tasks have no annotation yet`;
    throw new Error(`no valid labels in ${file} (${why})`);
  }
  return { imported, invalid: errors.length, topic, deadLetterTopic };
}

export interface LabelExportOptions {
  format?: string;
  pipeline?: string;
  /** Directory for the tasks and the config (default DRIFTLINE_HOME/label-studio). */
  out?: string;
  limit?: number;
  /** Also export records that already have a label. */
  all?: boolean;
  config?: string;
  quiet?: boolean;
}

export interface LabelExportResult {
  tasks: number;
  tasksFile: string;
  configFile: string;
}

/**
 * `driftline label export --format label-studio`: the pipeline's label queue as Label Studio tasks
 * (`<pipeline>-tasks.json`, most uncertain first) and its labelling config (`<pipeline>-config.xml`).
 */
export async function labelExportCommand(options: LabelExportOptions = {}): Promise<LabelExportResult> {
  const format = options.format ?? 'label-studio';
  if (format !== 'label-studio') throw new Error(`unknown export format "${format}": the one format is label-studio`);
  const { limit } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new Error(`--limit must be a positive whole number, got ${limit}`);
  }
  const project = labelStudioProject(options.pipeline ?? 'postings');
  const settings = commandSettings(options.config);
  const out = resolve(options.out ?? join(settings.home, 'label-studio'));
  const warehouse = await openWarehouse(settings);
  let exported: LabelQueueExport;
  try {
    await warehouse.ensureTables(['label_queue', 'labels', project.input === 'text' ? 'postings' : 'frames']);
    exported = await readLabelQueue(warehouseReader(warehouse), project, { includeLabelled: options.all, limit });
  } finally {
    await warehouse.close();
  }
  await mkdir(out, { recursive: true });
  const tasksFile = join(out, `${project.pipeline}-tasks.json`);
  const configFile = join(out, `${project.pipeline}-config.xml`);
  await writeFile(tasksFile, `${JSON.stringify(exported.tasks, null, 1)}\n`);
  await writeFile(configFile, labelStudioConfig(project));
  if (!options.quiet) sayExported(exported, project, { tasksFile, configFile, warehouse: warehouse.kind });
  return { tasks: exported.tasks.length, tasksFile, configFile };
}

/** What was written, what was left out and why, and what to do next. */
function sayExported(
  exported: LabelQueueExport,
  project: LabelStudioProject,
  where: { tasksFile: string; configFile: string; warehouse: string },
): void {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const shown = (path: string) => relative(process.cwd(), path) || path;
  const { tasks, labelled, missing } = exported;
  const what = `${tasks.length} ${project.pipeline} tasks from ${where.warehouse} label_queue`;
  say(`exported ${what}, most uncertain first: ${shown(where.tasksFile)}`);
  if (labelled > 0) say(`${labelled} queued records already have a label and were left out (--all exports them too)`);
  for (const m of missing.slice(0, 20)) say(`  left out ${m.record_id}: ${m.reason}`);
  if (missing.length > 20) say(`  … and ${missing.length - 20} more left out`);
  say(`labelling config: ${shown(where.configFile)}`);
  say('next: create a Label Studio project with that config, import the tasks, label, export as JSON, then');
  const classes = project.pipeline === 'postings' ? '' : ` --classes ${project.classes.join(',')}`;
  say(`      driftline label import <export.json>${classes}`);
}
