/**
 * On-disk record format of the embedded log.
 *
 * A partition file `<partition>.log` starts with one format-version byte (FORMAT_VERSION), followed by
 * records back to back. A record's offset is implied by its position in that sequence (the first record
 * is offset 0). Every number is little-endian.
 *
 *   u32  bodyLength                  bytes that follow this field
 *   u8   flags                       bit 0: key present (else null), bit 1: headers present (else absent)
 *   f64  timestamp                   epoch ms; a double keeps any JS number exactly
 *   [u32 keyLength, key utf8]        if flags & 1
 *   [u32 headerCount,                if flags & 2
 *     headerCount × (u32 nameLength, name utf8, u32 valueLength, value utf8)]
 *   value bytes                      the rest of the body
 *
 * The length prefix is what lets a reader recognise a record that is still being written: if fewer
 * than `4 + bodyLength` bytes are present, the record is incomplete and the reader waits.
 *
 * Limitation: there is no per-record checksum or sync marker. If a write is torn for good (power loss
 * with fsync off, or a producer killed with SIGKILL in the middle of a multi-MB write) and another
 * producer then appends after the torn bytes, the partition cannot be decoded past that point; readers
 * throw CorruptLogError when the lengths are implausible, but cannot always tell. A CRC per record
 * (format version 2) would make such damage detectable and skippable.
 */
import { readSync } from 'node:fs';
import type { ConsumedMessage, Message } from '../transport.ts';

export const FORMAT_VERSION = 1;
/** Byte position of the first record (just after the version byte). */
export const FIRST_RECORD_POSITION = 1;

const FLAG_KEY = 1;
const FLAG_HEADERS = 2;
/** flags + timestamp */
const MIN_BODY = 9;

/** Encoded size of one message, length prefix included. */
function encodedSize(m: Message): number {
  let n = 4 + MIN_BODY + m.value.length;
  if (m.key !== null) n += 4 + Buffer.byteLength(m.key, 'utf8');
  if (m.headers !== undefined) {
    n += 4;
    for (const name of Object.keys(m.headers)) {
      n += 8 + Buffer.byteLength(name, 'utf8') + Buffer.byteLength(m.headers[name]!, 'utf8');
    }
  }
  return n;
}

/** Encodes messages into one buffer, in order, ready for a single append. */
export function encodeRecords(messages: readonly Message[]): Buffer {
  let total = 0;
  for (let i = 0; i < messages.length; i++) total += encodedSize(messages[i]!);
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const start = p;
    p += 4;
    let flags = 0;
    if (m.key !== null) flags |= FLAG_KEY;
    if (m.headers !== undefined) flags |= FLAG_HEADERS;
    out[p++] = flags;
    out.writeDoubleLE(m.timestamp, p);
    p += 8;
    if (m.key !== null) {
      const n = out.write(m.key, p + 4, 'utf8');
      out.writeUInt32LE(n, p);
      p += 4 + n;
    }
    if (m.headers !== undefined) {
      const countAt = p;
      p += 4;
      let count = 0;
      for (const name of Object.keys(m.headers)) {
        const nn = out.write(name, p + 4, 'utf8');
        out.writeUInt32LE(nn, p);
        p += 4 + nn;
        const vn = out.write(m.headers[name]!, p + 4, 'utf8');
        out.writeUInt32LE(vn, p);
        p += 4 + vn;
        count++;
      }
      out.writeUInt32LE(count, countAt);
    }
    out.set(m.value, p);
    p += m.value.length;
    out.writeUInt32LE(p - start - 4, start);
  }
  if (p !== total) throw new Error(`embedded log: encoded ${p} bytes, expected ${total}`);
  return out;
}

export class CorruptLogError extends Error {
  constructor(file: string, position: number, detail: string) {
    super(`embedded log: corrupt record in ${file} at byte ${position}: ${detail}`);
    this.name = 'CorruptLogError';
  }
}

export interface DecodeResult {
  /** Index in `buf` just after the last decoded record. */
  end: number;
  /** Records decoded. */
  count: number;
}

/**
 * Decodes complete records from `buf` starting at index `start`, appending them to `out`, until `max`
 * records, `maxBytes` consumed bytes (at least one record is always decoded if complete), or the first
 * incomplete record. Values are subarrays of `buf`: the caller must never overwrite `buf` afterwards.
 * No syscalls, no promises: this is the hot loop.
 */
export function decodeRecords(
  buf: Buffer,
  start: number,
  topic: string,
  partition: number,
  firstOffset: number,
  max: number,
  maxBytes: number,
  out: ConsumedMessage[],
  file: string,
  bufFilePosition: number,
): DecodeResult {
  const len = buf.length;
  let i = start;
  let count = 0;
  let offset = firstOffset;
  while (count < max && i + 4 <= len) {
    const bodyLen = buf.readUInt32LE(i);
    const recEnd = i + 4 + bodyLen;
    if (recEnd > len) break;
    if (count > 0 && recEnd - start > maxBytes) break;
    if (bodyLen < MIN_BODY) throw new CorruptLogError(file, bufFilePosition + i, `body length ${bodyLen}`);
    let p = i + 4;
    const flags = buf[p]!;
    p += 1;
    const timestamp = buf.readDoubleLE(p);
    p += 8;
    let key: string | null = null;
    if (flags & FLAG_KEY) {
      const kl = buf.readUInt32LE(p);
      p += 4;
      if (p + kl > recEnd) throw new CorruptLogError(file, bufFilePosition + i, 'key overruns record');
      key = kl === 0 ? '' : buf.toString('utf8', p, p + kl);
      p += kl;
    }
    if (flags & FLAG_HEADERS) {
      const headers: Record<string, string> = {};
      const hc = buf.readUInt32LE(p);
      p += 4;
      for (let h = 0; h < hc; h++) {
        const nl = buf.readUInt32LE(p);
        p += 4;
        const name = buf.toString('utf8', p, p + nl);
        p += nl;
        const vl = buf.readUInt32LE(p);
        p += 4;
        const hv = buf.toString('utf8', p, p + vl);
        if (name === '__proto__') Object.defineProperty(headers, name, { value: hv, enumerable: true, writable: true, configurable: true });
        else headers[name] = hv;
        p += vl;
      }
      if (p > recEnd) throw new CorruptLogError(file, bufFilePosition + i, 'headers overrun record');
      out.push({ topic, partition, offset, key, value: buf.subarray(p, recEnd), timestamp, headers });
    } else {
      if (p > recEnd) throw new CorruptLogError(file, bufFilePosition + i, 'record too short');
      out.push({ topic, partition, offset, key, value: buf.subarray(p, recEnd), timestamp });
    }
    offset++;
    count++;
    i = recEnd;
  }
  return { end: i, count };
}

export interface LogPoint {
  /** Next offset. */
  offset: number;
  /** Byte position of that offset's record. */
  position: number;
}

/**
 * Walks record length prefixes from `from` until `targetOffset` or the last complete record before
 * `fileSize`, reading 1 MB chunks and jumping over bodies without reading them.
 */
export function scanRecords(fd: number, from: LogPoint, targetOffset: number, fileSize: number): LogPoint {
  let { offset, position } = from;
  const chunk = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(64, fileSize - position)));
  while (offset < targetOffset && position + 4 <= fileSize) {
    const want = Math.min(chunk.length, fileSize - position);
    const got = readSync(fd, chunk, 0, want, position);
    if (got < 4) break;
    let i = 0;
    let progressed = false;
    while (offset < targetOffset && i + 4 <= got) {
      const next = i + 4 + chunk.readUInt32LE(i);
      if (position + next > fileSize) return { offset, position: position + i };
      i = next;
      offset++;
      progressed = true;
    }
    position += i;
    if (!progressed) break;
  }
  return { offset, position };
}
