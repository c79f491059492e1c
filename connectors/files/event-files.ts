import { createReadStream } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import type { Message } from '../transport.ts';

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
  const text = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(value.trim()) ? `${value.trim().replace(' ', 'T')}Z` : value;
  return Date.parse(text);
}

const toMessage = (event: RawEvent, line?: Buffer): Message => {
  const ts = parseEventTime(event.timestamp);
  return {
    key: event.key,
    value: line ?? Buffer.from(JSON.stringify(event)),
    timestamp: Number.isFinite(ts) ? ts : 0,
  };
};

/**
 * Event files as messages for the `events` topic: a `timestamp,value` CSV (the NAB layout; the key is the file
 * name, the source its folder) or JSON lines of `{source?, key, timestamp, value}`. JSON lines travel as their
 * original bytes, so a malformed line reaches the pipeline as it was and is dead-lettered with a reason.
 */
export async function* readEventFile(file: string): AsyncGenerator<Message[]> {
  const ext = extname(file).toLowerCase();
  const key = basename(file, extname(file));
  const source = basename(dirname(file));
  let batch: Message[] = [];
  if (ext === '.csv') {
    const rows = createReadStream(file).pipe(parse({ columns: true, skip_empty_lines: true, relax_column_count: true }));
    for await (const row of rows as AsyncIterable<Record<string, string>>) {
      batch.push(toMessage({ source, key, timestamp: row.timestamp, value: row.value === undefined ? undefined : Number(row.value) }));
      if (batch.length >= BATCH) yield batch.splice(0);
    }
  } else if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const text of lines) {
      if (text.trim() === '') continue;
      const bytes = Buffer.from(text);
      let parsed: Partial<RawEvent> = {};
      try {
        parsed = JSON.parse(text) as Partial<RawEvent>;
      } catch {
        // left for the pipeline to dead-letter with the original bytes
      }
      batch.push(toMessage({ source, key: String(parsed?.key ?? key), timestamp: parsed?.timestamp, value: parsed?.value }, bytes));
      if (batch.length >= BATCH) yield batch.splice(0);
    }
  } else {
    throw new Error(`${file}: events are read from .csv (timestamp,value) or .jsonl files, not ${ext || 'files without an extension'}`);
  }
  if (batch.length > 0) yield batch;
}

/** Several event files, one after another. */
export async function* readEventFiles(files: string[]): AsyncGenerator<Message[]> {
  for (const file of files) yield* readEventFile(file);
}

export const isEventFile = (file: string) => ['.csv', '.jsonl', '.ndjson', '.json'].includes(extname(file).toLowerCase());
