import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { loadSettings } from '../config/settings.ts';
import { deadLetterTopicSink } from '../connectors/dead-letter-topic-sink.ts';
import { encodeLabel, type LabelError, parseLabels } from '../connectors/labels/label-format.ts';
import { openTransport } from '../connectors/open-transport.ts';
import type { Transport } from '../connectors/transport.ts';
import { DEFAULT_LABEL_CLASSES, labelsPipeline } from '../streams/pipelines/labels.ts';
import { topicName } from '../streams/pipelines/pipeline-definition.ts';
import type { DeadLetter, StreamRecord } from '../streams/record.ts';

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
): Promise<{ imported: number; errors: LabelError[] }> {
  const now = format.now ?? Date.now();
  const { labels, errors } = parseLabels(target.bytes, { classes: format.classes, source: format.source ?? `file:${basename(target.file)}`, now });
  if (labels.length > 0) {
    await transport.ensureTopic(target.topic, target.partitions ?? 1);
    const producer = await transport.producer();
    try {
      for (let i = 0; i < labels.length; i += SEND_BATCH) await producer.send(target.topic, labels.slice(i, i + SEND_BATCH).map(encodeLabel));
    } finally {
      await producer.close();
    }
  }
  if (errors.length > 0) {
    const sink = deadLetterTopicSink(transport, target.deadLetterTopic);
    // Position = the file and line, so `dlq.topic`/`dlq.offset` point a person at the entry to fix.
    const letters: StreamRecord<DeadLetter>[] = errors.map((e) => {
      const letter: DeadLetter = { stage: 'label-import', error: e.reason, position: { topic: `file:${target.file}`, partition: 0, offset: e.line }, key: null, original: e.original, eventTime: now, failedAt: now };
      return { key: null, value: letter, eventTime: now, headers: {}, position: letter.position };
    });
    try {
      await sink.write(letters);
    } finally {
      await sink.close?.();
    }
  }
  return { imported: labels.length, errors };
}

/** `driftline label import <file>`: fails (exit 1) only when the file is unreadable or holds no valid label. */
export async function labelImportCommand(file: string, options: LabelImportOptions = {}): Promise<LabelImportResult> {
  const settings = loadSettings();
  const classes = options.classes ? options.classes.split(',').map((c) => c.trim()).filter(Boolean) : DEFAULT_LABEL_CLASSES;
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
  let result: { imported: number; errors: LabelError[] };
  try {
    result = await importLabels(transport, { file: path, bytes, topic, deadLetterTopic, partitions: labelsPipeline.partitions }, { classes, source: options.source });
  } finally {
    await transport.close();
  }
  const { imported, errors } = result;
  if (!options.quiet) {
    process.stderr.write(`imported ${imported} labels from ${file} to ${transport.kind} topic ${topic}\n`);
    if (errors.length > 0) {
      process.stderr.write(`${errors.length} invalid entries dead-lettered to ${deadLetterTopic}:\n`);
      for (const e of errors.slice(0, 20)) process.stderr.write(`  ${basename(file)}:${e.line}: ${e.reason}\n`);
      if (errors.length > 20) process.stderr.write(`  … and ${errors.length - 20} more\n`);
    }
  }
  if (imported === 0) throw new Error(`no valid labels in ${file}${errors.length > 0 ? ` (${errors.length} invalid entries, see ${deadLetterTopic})` : ' (the file is empty)'}`);
  return { imported, invalid: errors.length, topic, deadLetterTopic };
}
