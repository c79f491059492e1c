/**
 * Walks a partition file record by record without decoding them: to find an offset's byte position, the end of
 * the log, or the first damaged record. By their lengths only, which is cheap and finds a torn tail; or also
 * checking each version-2 record's checksum (`verify`), which finds exactly where damage begins, at the cost of
 * the CRC (version-1 records have none).
 */
import { readSync } from 'node:fs';
import { crc32 } from './crc32.ts';
import { isReadableVersion, type LogPoint, MIN_BODY, recordHeaderSize } from './format.ts';

/** What is wrong with the bytes at a scan's end point. */
export interface Damage {
  /** `incomplete`: the file ends inside the record (torn, or still being written); `corrupt`: it can never be read. */
  kind: 'incomplete' | 'corrupt';
  detail: string;
}

export interface ScanResult extends LogPoint {
  /** Set when the scan stopped before its target because the bytes at the returned point are not an intact record. */
  damage?: Damage;
}

const CHUNK = 1 << 20;

/**
 * From the record boundary `from`, walks records until `targetOffset`, the end of the file (`fileSize`), or the
 * first record that is incomplete or corrupt (then `damage` says which).
 */
export function scanRecords(
  fd: number,
  from: LogPoint,
  targetOffset: number,
  fileSize: number,
  version: number,
  verify = false,
): ScanResult {
  const header = recordHeaderSize(version);
  const read = chunkReader(fd, fileSize);
  let offset = from.offset;
  let position = from.position;
  while (offset < targetOffset && position < fileSize) {
    const size = recordSize(read, position, fileSize - position, header, verify);
    if (typeof size !== 'number') return { offset, position, damage: size };
    position += size;
    offset++;
  }
  return { offset, position };
}

type ChunkReader = (position: number, length: number) => { buf: Buffer; at: number } | null;

const cutWhileReading: Damage = { kind: 'incomplete', detail: 'the file was cut while being read' };

/** The size of the record at `position` (header included), or what is wrong with it; `left`: bytes from there on. */
function recordSize(
  read: ChunkReader,
  position: number,
  left: number,
  header: number,
  verify: boolean,
): number | Damage {
  if (left < header) return { kind: 'incomplete', detail: `${left} bytes, less than a record header` };
  let view = read(position, header);
  if (view === null) return cutWhileReading;
  const bodyLen = view.buf.readUInt32LE(view.at);
  if (bodyLen < MIN_BODY) return { kind: 'corrupt', detail: `body length ${bodyLen}` };
  const size = header + bodyLen;
  if (size > left) return { kind: 'incomplete', detail: `a record of ${size} bytes with ${left} present` };
  if (!verify || header !== 8) return size;
  view = read(position, size);
  if (view === null) return cutWhileReading;
  return crc32(view.buf, view.at + 8, view.at + size) === view.buf.readUInt32LE(view.at + 4)
    ? size
    : { kind: 'corrupt', detail: 'checksum mismatch' };
}

/** Reads through a 1 MB window (larger for a larger record); null when fewer bytes exist than asked for. */
function chunkReader(fd: number, fileSize: number): ChunkReader {
  let buf = Buffer.alloc(0);
  let start = 0;
  let filled = 0;
  return (position, length) => {
    if (position >= start && position + length <= start + filled) return { buf, at: position - start };
    const want = Math.min(Math.max(length, CHUNK), fileSize - position);
    if (buf.length < want) buf = Buffer.allocUnsafe(Math.max(want, Math.min(CHUNK, fileSize - position)));
    start = position;
    filled = 0;
    while (filled < want) {
      const got = readSync(fd, buf, filled, want - filled, position + filled);
      if (got === 0) break;
      filled += got;
    }
    return filled >= length ? { buf, at: 0 } : null;
  };
}

/** The format-version byte of a partition file; throws for a version this build cannot read. */
export function readFormatVersion(fd: number, file: string): number {
  const head = Buffer.alloc(1);
  const got = readSync(fd, head, 0, 1, 0);
  if (got !== 1 || !isReadableVersion(head[0])) {
    throw new Error(
      `embedded log: ${file} has format version ${got === 1 ? head[0] : 'none (empty file)'}, this build reads ` +
        `versions 1 and 2`,
    );
  }
  return head[0]!;
}
