import { open, readFile } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { INPUT_ERROR_HEADER } from '../../streams/kernel/input-error.ts';
import { eventTimeProblem } from '../../streams/kernel/record-checks.ts';
import { toWellFormed } from '../../streams/kernel/well-formed-text.ts';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import { type ByteLine, readByteLines } from './byte-lines.ts';
import { mergeByEventTime } from './event-time-merge.ts';

/** The raw event as it travels on the events topic: fields as found in the file, checked by the pipeline. */
export interface RawEvent {
  source: string;
  key: string;
  timestamp: unknown;
  value: unknown;
}

const BATCH = 5_000;

/** NAB timestamps carry no zone ("2014-07-01 00:00:00"); they are read as UTC. */
export function parseEventTime(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || value.trim() === '') return Number.NaN;
  const text = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(value.trim())
    ? `${value.trim().replace(' ', 'T')}Z`
    : value;
  return Date.parse(text);
}

/**
 * The message timestamp for an event: its event time when the runtime can carry it, else 0 (the pipeline
 * dead-letters the event with the reason; the timestamp only has to be one every transport accepts).
 */
function messageTime(timestamp: unknown): number {
  const ts = parseEventTime(timestamp);
  return eventTimeProblem(ts) === undefined ? ts : 0;
}

const toMessage = (event: RawEvent, line?: Buffer): Message => ({
  key: toWellFormed(event.key),
  value: line ?? Buffer.from(JSON.stringify(event)),
  timestamp: messageTime(event.timestamp),
});

/** A line the reader could not make an event of: its own bytes, flagged for the pipeline to dead-letter. */
const flagged = (key: string, line: ByteLine, reason: string): Message => ({
  key,
  value: line.bytes,
  timestamp: 0,
  headers: { [INPUT_ERROR_HEADER]: reason },
});

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * One CSV line's fields. Most NAB lines have no quotes and are split directly (about 50× faster than csv-parse per
 * line); a line with quotes is parsed by csv-parse alone, so a stray quote fails that line only.
 */
function csvFields(text: string): string[] {
  if (!text.includes('"')) return text.split(',');
  const rows = parse(text, { relax_column_count: true }) as string[][];
  return rows[0] ?? [];
}

/** A number when the cell holds one; otherwise the cell as written, so the pipeline's reason shows it. */
const cellValue = (cell: string | undefined): unknown =>
  cell !== undefined && cell.trim() !== '' && Number.isFinite(Number(cell)) ? Number(cell) : cell;

/**
 * A `timestamp,value` CSV (the NAB layout), line by line. NAB rows are one line each, so each line is parsed on its
 * own: a stray quote or a wrong field count costs that line (published flagged, with its line number) and never
 * the rest of the file. csv-parse's `skip_records_with_error` cannot promise that: an unclosed quote swallows every
 * following line into one bad record.
 */
async function* csvEvents(file: string, source: string, key: string): AsyncGenerator<Message> {
  const where = (line: ByteLine) => `${basename(file)} line ${line.line}`;
  let header: string[] | undefined;
  for await (const line of readByteLines(file)) {
    let text: string;
    try {
      text = utf8.decode(line.bytes);
    } catch {
      yield flagged(key, line, `${where(line)}: not valid UTF-8`);
      continue;
    }
    if (text.trim() === '') continue;
    let fields: string[];
    try {
      fields = csvFields(header ? text : text.replace(/^\uFEFF/, ''));
    } catch (error) {
      yield flagged(key, line, `${where(line)}: ${(error as Error).message.replace(/ at line \d+/, '')}`);
      continue;
    }
    if (!header) {
      header = fields.map((f) => f.trim());
      continue;
    }
    if (fields.length !== header.length) {
      yield flagged(
        key,
        line,
        `${where(line)}: ${fields.length} fields, the header has ${header.length} (${header.join(',')})`,
      );
      continue;
    }
    const cell = (name: string) => fields[header!.indexOf(name)];
    yield toMessage({ source, key, timestamp: cell('timestamp'), value: cellValue(cell('value')) });
  }
}

/** The elements of a file holding one JSON array, or undefined when it holds something else (e.g. JSON lines). */
async function jsonArrayElements(file: string): Promise<unknown[] | undefined> {
  const handle = await open(file);
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64), 0, 64, 0);
    if (!/^\uFEFF?\s*\[/.test(buffer.subarray(0, bytesRead).toString('utf8'))) return undefined;
  } finally {
    await handle.close();
  }
  try {
    const parsed: unknown = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined; // not one valid array: read as lines, so each bad line is dead-lettered with its bytes
  }
}

/**
 * JSON lines of `{source?, key, timestamp, value}`, each travelling as its exact bytes; or one JSON array of them,
 * each element travelling as its JSON text (so an array is one record per element, not one per line).
 */
async function* jsonLineEvents(file: string, key: string): AsyncGenerator<Message> {
  const elements = await jsonArrayElements(file);
  if (elements) {
    for (const element of elements) {
      const parsed = (element ?? {}) as Partial<RawEvent>;
      yield toMessage(
        { source: '', key: String(parsed.key ?? key), timestamp: parsed.timestamp, value: undefined },
        Buffer.from(JSON.stringify(element)),
      );
    }
    return;
  }
  for await (const line of readByteLines(file)) {
    if (line.bytes.toString('latin1').trim() === '') continue;
    let parsed: Partial<RawEvent> = {};
    try {
      parsed = JSON.parse(line.bytes.toString('utf8')) as Partial<RawEvent>;
    } catch {
      // left for the pipeline to dead-letter with the original bytes
    }
    yield toMessage(
      { source: '', key: String(parsed?.key ?? key), timestamp: parsed?.timestamp, value: undefined },
      line.bytes,
    );
  }
}

/**
 * Event files as messages for the `events` topic: a `timestamp,value` CSV (the NAB layout; the key is the file
 * name, the source its folder) or JSON lines (or a JSON array) of `{source?, key, timestamp, value}`. JSON lines travel
 * as their original bytes, so a malformed line reaches the pipeline as it was and is dead-lettered with a reason; so
 * does a CSV line that cannot be read, flagged with its line number (streams/kernel/input-error.ts).
 */
export async function* readEventFile(file: string, batchRecords = BATCH): AsyncGenerator<Message[]> {
  const ext = extname(file).toLowerCase();
  const key = basename(file, extname(file));
  let messages: AsyncGenerator<Message>;
  if (ext === '.csv') messages = csvEvents(file, basename(dirname(file)), key);
  else if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') messages = jsonLineEvents(file, key);
  else
    throw new Error(
      `${file}: events are read from .csv (timestamp,value) or .jsonl files, ` +
        `not ${ext || 'files without an extension'}`,
    );
  const batch: Message[] = [];
  for await (const m of messages) {
    batch.push(m);
    if (batch.length >= batchRecords) yield batch.splice(0);
  }
  if (batch.length > 0) yield batch;
}

/**
 * Several event files merged in event time (event-time-merge.ts), as `run --input` and `produce` read a folder:
 * each series starts on time however the files are named. Each file holds a small batch at a time while merged.
 */
export async function* readEventFiles(files: string[]): AsyncGenerator<Message[]> {
  if (files.length === 1) yield* readEventFile(files[0]!);
  else
    yield* mergeByEventTime(
      files.map((file) => readEventFile(file, 500)),
      BATCH,
    );
}

export const isEventFile = (file: string) =>
  ['.csv', '.jsonl', '.ndjson', '.json'].includes(extname(file).toLowerCase());
