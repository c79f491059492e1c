/**
 * The label file format (`driftline label import <file>`, README.md beside this file) and the `labels` topic format.
 *
 * A file is JSON Lines (one object per line; blank lines are skipped) or, when its first non-blank character is
 * `[`, one JSON array of objects. Each object:
 *
 *   record_id   string (an integer is accepted and turned into its decimal string) — the id predictions carry
 *   label       class index (0-based integer), or a class name resolved through the given class list
 *   label_name  optional string; defaults to the class name
 *   source      optional string; defaults to the importer's `source` option
 *   labeled_at  optional ISO 8601 date-time or epoch milliseconds; defaults to the import time
 *
 * Other fields are ignored. An element that is a Label Studio task (a JSON export of a Label Studio project) is
 * read as its annotation's label (label-studio-export.ts). Every entry is parsed on its own: a bad line is reported
 * with its line number, reason and original bytes, and never stops the good ones. On the topic a label is the canonical
 * JSON of `Label` (class index, epoch ms), keyed by record_id; the topic decoder accepts the file format too, so
 * hand-produced lines work.
 */
import type { Message } from '../../streams/kernel/transport/transport.ts';
import type { Label } from '../../schemas/label.ts';
import { isLabelStudioTask, labelFromLabelStudioTask } from './label-studio-export.ts';

export interface LabelFormatOptions {
  /** Class names by index, for labels given by name and for the default `label_name`. */
  classes: readonly string[];
  /** `source` of entries that do not name one. Default 'import'. */
  source?: string;
  /** `labeled_at` of entries that do not give one (epoch ms). Default: now. */
  now?: number;
}

export interface LabelError {
  /** 1-based line where the entry starts. */
  line: number;
  reason: string;
  /** The entry's bytes as they were in the file (the line without its line break, or the array element). */
  original: Buffer;
}

export interface ParsedLabels {
  labels: Label[];
  errors: LabelError[];
  /** Label Studio tasks with no annotation yet (or only skipped ones): no label, and nothing wrong. */
  unlabelled: number;
}

/** Epoch-ms numbers below this (3 March 1973) are almost certainly seconds. */
const MIN_EPOCH_MS = 1e11;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** "Data Science", "data-science" and "data_science" name the same class. */
const classKey = (name: string) =>
  name
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '_');

/** Checks one parsed entry and returns it as a Label; throws with a reason a person understands. */
export function validateLabel(value: unknown, options: LabelFormatOptions): Label {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('a label must be a JSON object');
  const v = value as Record<string, unknown>;

  let recordId: string;
  if (typeof v.record_id === 'string' && v.record_id.trim() !== '') recordId = v.record_id;
  else if (Number.isSafeInteger(v.record_id) && (v.record_id as number) >= 0) recordId = String(v.record_id);
  else throw new Error(`"record_id" must be a non-empty string (or a non-negative integer), got ${show(v.record_id)}`);

  const classes = options.classes;
  const allowed = `a class index 0..${classes.length - 1} or one of ${classes.join(', ')}`;
  let label: number;
  if (typeof v.label === 'number') {
    if (!Number.isInteger(v.label) || v.label < 0 || v.label >= classes.length)
      throw new Error(`"label" must be ${allowed}, got ${show(v.label)}`);
    label = v.label;
  } else if (typeof v.label === 'string') {
    label = classes.findIndex((c) => classKey(c) === classKey(v.label as string));
    if (label < 0) throw new Error(`"label" must be ${allowed}, got unknown class ${show(v.label)}`);
  } else throw new Error(`"label" must be ${allowed}, got ${show(v.label)}`);

  if (v.label_name !== undefined && v.label_name !== null && typeof v.label_name !== 'string')
    throw new Error(`"label_name" must be a string, got ${show(v.label_name)}`);
  if (v.source !== undefined && v.source !== null && (typeof v.source !== 'string' || v.source.trim() === ''))
    throw new Error(`"source" must be a non-empty string, got ${show(v.source)}`);

  return {
    record_id: recordId,
    label,
    label_name: typeof v.label_name === 'string' ? v.label_name : (classes[label] ?? null),
    source: typeof v.source === 'string' ? v.source : (options.source ?? 'import'),
    labeled_at:
      v.labeled_at === undefined || v.labeled_at === null ? (options.now ?? Date.now()) : parseLabeledAt(v.labeled_at),
  };
}

/** ISO 8601 text or epoch milliseconds → epoch ms. A date-time without a zone is taken as UTC (never server-local). */
export function parseLabeledAt(value: unknown): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new Error(`"labeled_at" must be a finite number of epoch milliseconds, got ${show(value)}`);
    if (value < MIN_EPOCH_MS)
      throw new Error(`"labeled_at" ${value} looks like epoch seconds; give epoch milliseconds or an ISO 8601 date`);
    return Math.round(value);
  }
  if (typeof value !== 'string')
    throw new Error(`"labeled_at" must be an ISO 8601 date-time or epoch milliseconds, got ${show(value)}`);
  const text = value.trim();
  const m = ISO_DATE.exec(text);
  const t = m ? Date.parse(m[1] && !m[4] ? `${text}Z` : text) : Number.NaN;
  if (!m || !Number.isFinite(t) || !isCalendarDate(text))
    throw new Error(
      `"labeled_at" must be an ISO 8601 date-time (e.g. 2026-03-01T12:00:00Z) or epoch milliseconds, ` +
        `got ${show(value)}`,
    );
  return t;
}

/** Date.parse rolls 2026-02-30 over to March 2nd; a label date that does not exist is a typo. */
function isCalendarDate(text: string): boolean {
  const [y, mo, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** Parses a label file (JSON Lines or a JSON array): every valid label, and every bad entry with its reason. */
export function parseLabels(bytes: Buffer, options: LabelFormatOptions): ParsedLabels {
  const now = options.now ?? Date.now();
  const opts = { ...options, now };
  const labels: Label[] = [];
  const errors: LabelError[] = [];
  let unlabelled = 0;
  for (const entry of splitEntries(bytes)) {
    if (entry.error) {
      errors.push({ line: entry.line, reason: entry.error, original: entry.bytes });
      continue;
    }
    try {
      const value = parseJson(entry.bytes);
      // A Label Studio export is a JSON array of tasks: each task is one entry, turned into the fields above.
      const fields = isLabelStudioTask(value) ? labelFromLabelStudioTask(value) : value;
      if (fields === null) unlabelled++;
      else labels.push(validateLabel(fields, opts));
    } catch (error) {
      errors.push({ line: entry.line, reason: (error as Error).message, original: entry.bytes });
    }
  }
  return { labels, errors, unlabelled };
}

/** A label as it goes on the `labels` topic: canonical JSON, keyed by record_id, event time = labeled_at. */
export function encodeLabel(label: Label): Message {
  const { record_id, label: index, label_name, source, labeled_at } = label;
  return {
    key: record_id,
    value: Buffer.from(JSON.stringify({ record_id, label: index, label_name, source, labeled_at })),
    timestamp: labeled_at,
  };
}

/** A `labels` topic value → Label (the canonical JSON, or one line of the file format). Throws with the reason. */
export function decodeLabel(bytes: Buffer, options: LabelFormatOptions): Label {
  return validateLabel(parseJson(bytes), options);
}

function parseJson(bytes: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new Error('not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`not valid JSON: ${(error as Error).message}`);
  }
}

interface Entry {
  line: number;
  bytes: Buffer;
  /** Set when the entry could not even be cut out of the file (a broken array). */
  error?: string;
}

const isBlank = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/** The file's entries with the line each starts on: lines of JSON Lines, or the elements of a top-level array. */
function splitEntries(bytes: Buffer): Entry[] {
  let first = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0; // UTF-8 byte order mark
  const start = first;
  while (first < bytes.length && isBlank(bytes[first]!)) first++;
  return bytes[first] === 0x5b ? arrayElements(bytes, first) : jsonLines(bytes, start);
}

function jsonLines(bytes: Buffer, from: number): Entry[] {
  const entries: Entry[] = [];
  let line = 1;
  let start = from;
  for (let i = from; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 0x0a) continue;
    let end = i;
    if (end > start && bytes[end - 1] === 0x0d) end--; // CRLF
    const entry = bytes.subarray(start, end);
    if (entry.some((b) => !isBlank(b))) entries.push({ line, bytes: Buffer.from(entry) });
    line++;
    start = i + 1;
  }
  return entries;
}

/**
 * Cuts a top-level JSON array into its elements' bytes by scanning brackets and strings, so each element is parsed
 * (and rejected) on its own. Text after the closing bracket, or a missing one, is reported as an entry of its own.
 */
function arrayElements(bytes: Buffer, open: number): Entry[] {
  const entries: Entry[] = [];
  let line = 1;
  for (let i = 0; i < open; i++) if (bytes[i] === 0x0a) line++;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  let startLine = line;
  let closedAt = -1;
  const finish = (end: number) => {
    if (start >= 0) entries.push({ line: startLine, bytes: Buffer.from(trimBlank(bytes.subarray(start, end))) });
    start = -1;
  };
  for (let i = open + 1; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x0a) line++;
    if (inString) {
      if (escaped) escaped = false;
      else if (b === 0x5c) escaped = true;
      else if (b === 0x22) inString = false;
      continue;
    }
    if (depth === 0 && (b === 0x2c || b === 0x5d)) {
      finish(i);
      if (b === 0x5d) {
        closedAt = i;
        break;
      }
      continue;
    }
    if (start < 0 && !isBlank(b)) {
      start = i;
      startLine = line;
    }
    if (b === 0x22) inString = true;
    else if (b === 0x7b || b === 0x5b) depth++;
    else if (b === 0x7d || b === 0x5d) depth--;
  }
  if (closedAt < 0) {
    if (start >= 0)
      entries.push({
        line: startLine,
        bytes: Buffer.from(trimBlank(bytes.subarray(start))),
        error: 'the JSON array is not closed: this element runs to the end of the file',
      });
    else
      entries.push({
        line,
        bytes: Buffer.alloc(0),
        error: 'the JSON array is not closed (no "]" before the end of the file)',
      });
    return entries;
  }
  const rest = bytes.subarray(closedAt + 1);
  if (rest.some((b) => !isBlank(b))) {
    let restLine = line;
    let k = 0;
    while (isBlank(rest[k]!)) if (rest[k++] === 0x0a) restLine++;
    entries.push({
      line: restLine,
      bytes: Buffer.from(trimBlank(rest)),
      error: 'unexpected text after the closing "]" of the JSON array',
    });
  }
  return entries;
}

function trimBlank(b: Buffer): Buffer {
  let s = 0;
  let e = b.length;
  while (s < e && isBlank(b[s]!)) s++;
  while (e > s && isBlank(b[e - 1]!)) e--;
  return b.subarray(s, e);
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
