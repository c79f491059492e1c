import { isUtf8 } from 'node:buffer';
import type { PostingSource } from '../../schemas/job-posting.ts';
import type { RawPosting } from '../../schemas/raw-posting.ts';

export const BATCH = 1_000;

/** Groups records into arrays of at most `size`. */
export async function* inBatches<T>(records: Iterable<T> | AsyncIterable<T>, size = BATCH): AsyncGenerator<T[]> {
  const batch: T[] = [];
  for await (const r of records) {
    batch.push(r);
    if (batch.length >= size) yield batch.splice(0);
  }
  if (batch.length > 0) yield batch;
}

/**
 * The elements of a JSON file holding either one array or NDJSON (detected from the first non-space byte: '[' →
 * array, else one JSON value per line). NDJSON lines keep their original bytes and are left unparsed
 * (value undefined) when malformed, so the normalizer rejects them with the reason. An array file that is not valid
 * UTF-8 or not valid JSON cannot be split into records: it becomes one unparsed record holding the whole file.
 */
export function* jsonRecords(bytes: Buffer, source: PostingSource): Generator<RawPosting> {
  let i = 0;
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 ||
      bytes[i] === 0x0a ||
      bytes[i] === 0x0d ||
      bytes[i] === 0x09 ||
      bytes[i] === 0xef ||
      bytes[i] === 0xbb ||
      bytes[i] === 0xbf)
  )
    i++;
  if (bytes[i] === 0x5b /* [ */) {
    let items: unknown;
    try {
      items = isUtf8(bytes) ? JSON.parse(bytes.toString('utf8')) : undefined;
    } catch {
      items = undefined;
    }
    if (!Array.isArray(items)) {
      yield { raw: bytes, source, value: undefined };
      return;
    }
    for (const value of items) yield { raw: Buffer.from(JSON.stringify(value) ?? 'null'), source, value };
    return;
  }
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    let line = bytes.subarray(start, end);
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    start = end + 1;
    if (line.toString('latin1').trim() === '') continue;
    let value: unknown;
    if (isUtf8(line)) {
      try {
        value = JSON.parse(line.toString('utf8'));
      } catch {
        value = undefined;
      }
    }
    yield { raw: Buffer.from(line), source, value };
  }
}
