/**
 * On-disk record format of the embedded log.
 *
 * A partition file `<partition>.log` starts with one format-version byte, followed by records back to back. A
 * record's offset is implied by its position in that sequence (the first record is offset 0). Every number is
 * little-endian. Version 2 (written to every new partition file):
 *
 *   u32  bodyLength                  bytes of the body (after the checksum)
 *   u32  crc32                       CRC-32 of the body (crc32.ts)
 *   body:
 *   u8   flags                       bit 0: key present (else null), bit 1: headers present (else absent)
 *   f64  timestamp                   epoch ms; a double keeps any JS number exactly
 *   [u32 keyLength, key utf8]        if flags & 1
 *   [u32 headerCount,                if flags & 2
 *     headerCount × (u32 nameLength, name utf8, u32 valueLength, value utf8)]
 *   value bytes                      the rest of the body
 *
 * Version 1 is the same without the checksum field. Files written as version 1 stay version 1: they are read
 * and appended to as they are, never rewritten in place, because other processes may hold them open and group
 * files store byte positions into them. A new topic (or partition) gets version 2.
 *
 * The length prefix lets a reader recognise a record that is still being written (fewer than header + bodyLength
 * bytes present: wait for the rest). The checksum lets it recognise a record that will never be right: a write
 * torn by a crash and then followed by other bytes. Such tails are cut when they are found (tail-repair.ts).
 */
import type { ConsumedMessage, Message } from '../../streams/kernel/transport/transport.ts';
import { crc32 } from './crc32.ts';

/** The version written to new partition files. */
export const FORMAT_VERSION = 2;
/** Byte position of the first record (just after the version byte). */
export const FIRST_RECORD_POSITION = 1;

export function isReadableVersion(version: number | undefined): boolean {
  return version === 1 || version === 2;
}

/** Bytes before a record's body: the length, and from version 2 on the checksum. */
export function recordHeaderSize(version: number): number {
  return version >= 2 ? 8 : 4;
}

const FLAG_KEY = 1;
const FLAG_HEADERS = 2;
/** flags + timestamp */
export const MIN_BODY = 9;

/** Encoded size of one message, record header included. */
function encodedSize(m: Message, header: number): number {
  let n = header + MIN_BODY + m.value.length;
  if (m.key !== null) n += 4 + Buffer.byteLength(m.key, 'utf8');
  if (m.headers !== undefined) {
    n += 4;
    for (const name of Object.keys(m.headers)) {
      n += 8 + Buffer.byteLength(name, 'utf8') + Buffer.byteLength(m.headers[name]!, 'utf8');
    }
  }
  return n;
}

/** Encodes messages into one buffer, in order, ready for a single append to a file of `version`. */
export function encodeRecords(messages: readonly Message[], version: number = FORMAT_VERSION): Buffer {
  const header = recordHeaderSize(version);
  let total = 0;
  for (let i = 0; i < messages.length; i++) total += encodedSize(messages[i]!, header);
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  for (let i = 0; i < messages.length; i++) {
    const start = p;
    p = encodeBody(messages[i]!, out, start + header);
    out.writeUInt32LE(p - start - header, start);
    if (header === 8) out.writeUInt32LE(crc32(out, start + 8, p), start + 4);
  }
  if (p !== total) throw new Error(`embedded log: encoded ${p} bytes, expected ${total}`);
  return out;
}

/** Writes a message's body at `p`; returns the index after it. */
function encodeBody(m: Message, out: Buffer, p: number): number {
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
  return p + m.value.length;
}

/** A damaged record a reader met but could not cut, because another live process writes the topic. */
export class CorruptLogError extends Error {
  constructor(file: string, position: number, detail: string) {
    super(
      `embedded log: corrupt record in ${file} at byte ${position}: ${detail}. It is cut (kept in a side file) ` +
        `once no ` +
        'other process writes this topic: stop its producers and read again; the records before it stay readable',
    );
    this.name = 'CorruptLogError';
  }
}

/** The partition records are decoded from, and its file's format version. */
export interface RecordSource {
  topic: string;
  partition: number;
  version: number;
}

export interface DecodeResult {
  /** Index in `buf` just after the last decoded record. */
  end: number;
  /** Records decoded. */
  count: number;
  /** Set when decoding stopped at `end` because the record there is damaged: what is wrong with it. */
  corrupt?: string;
}

/**
 * Decodes complete records from `buf` starting at index `start`, appending them to `out`, until `max`
 * records, `maxBytes` consumed bytes (at least one record is always decoded if complete), the first
 * incomplete record or the first damaged one (`corrupt`). Values are subarrays of `buf`: the caller must never
 * overwrite `buf` afterwards. No syscalls, no promises: this is the hot loop.
 */
export function decodeRecords(
  buf: Buffer,
  start: number,
  src: RecordSource,
  firstOffset: number,
  max: number,
  maxBytes: number,
  out: ConsumedMessage[],
): DecodeResult {
  const { topic, partition } = src;
  const header = recordHeaderSize(src.version);
  const len = buf.length;
  let i = start;
  let count = 0;
  let offset = firstOffset;
  while (count < max && i + header <= len) {
    const bodyLen = buf.readUInt32LE(i);
    const recEnd = i + header + bodyLen;
    if (recEnd > len) break;
    if (count > 0 && recEnd - start > maxBytes) break;
    if (bodyLen < MIN_BODY) return { end: i, count, corrupt: `body length ${bodyLen}` };
    let p = i + header;
    if (header === 8 && crc32(buf, p, recEnd) !== buf.readUInt32LE(i + 4))
      return { end: i, count, corrupt: `checksum mismatch (offset ${offset})` };
    const flags = buf[p]!;
    p += 1;
    const timestamp = buf.readDoubleLE(p);
    p += 8;
    let key: string | null = null;
    if (flags & FLAG_KEY) {
      const kl = buf.readUInt32LE(p);
      p += 4;
      if (p + kl > recEnd) return { end: i, count, corrupt: 'key overruns record' };
      key = kl === 0 ? '' : buf.toString('utf8', p, p + kl);
      p += kl;
    }
    if (flags & FLAG_HEADERS) {
      const headers: Record<string, string> = {};
      const hc = buf.readUInt32LE(p);
      p += 4;
      for (let h = 0; h < hc && p <= recEnd; h++) {
        const nl = buf.readUInt32LE(p);
        p += 4;
        const name = buf.toString('utf8', p, p + nl);
        p += nl;
        const vl = buf.readUInt32LE(p);
        p += 4;
        const hv = buf.toString('utf8', p, p + vl);
        if (name === '__proto__')
          Object.defineProperty(headers, name, { value: hv, enumerable: true, writable: true, configurable: true });
        else headers[name] = hv;
        p += vl;
      }
      if (p > recEnd) return { end: i, count, corrupt: 'headers overrun record' };
      out.push({ topic, partition, offset, key, value: buf.subarray(p, recEnd), timestamp, headers });
    } else {
      if (p > recEnd) return { end: i, count, corrupt: 'record too short' };
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
