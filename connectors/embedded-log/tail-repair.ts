/**
 * Keeping a partition file's tail intact. A write torn by a full disk, an I/O error or a crash leaves a partial
 * record at the end of the file; appending after it would make everything after unreadable, and a reader would
 * wait for the rest of it forever. So:
 *
 *   - after a failed append the producer cuts the file back to where that append began, the end of the last
 *     complete record before it (cutBackAfterFailedAppend);
 *   - when a producer first appends to a partition, and when a consumer opens one, a damaged tail is detected and
 *     cut (checkTail), with one stderr line naming topic, partition, offset and bytes; a consumer that meets a
 *     checksum mismatch while reading cuts there the same way (cutDamagedTail).
 *
 * Those cuts move the bytes to a side file `<partition>.log.damaged-<offset>-<epoch ms>` first: a merely torn
 * write holds nothing acknowledged, but a torn write followed by another process's appends would, and the bytes
 * alone cannot say which. A cut only happens when it is safe (writers.ts): under the partition's cut lock, with no
 * other live process registered as a writer of the topic, since a tail being written looks torn too.
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogPoint } from './format.ts';
import { scanRecords, type ScanResult } from './scan.ts';
import { otherLiveWriters, withCutLock } from './writers.ts';

/** A partition file and what is needed to check and cut it. */
export interface PartitionFile {
  topic: string;
  partition: number;
  file: string;
  topicDir: string;
  version: number;
  fsync: boolean;
}

const cutLock = (pf: PartitionFile): string => `${pf.file}.cut-lock`;

/**
 * The end of the records from the record boundary `from` on. A damaged tail after them is moved to a side file and
 * cut when that is safe; otherwise (another live writer: maybe a write in flight) it is left in place. Walks by
 * record lengths, which finds a torn tail; the checksums are checked only once something is found, to cut exactly
 * where the damage begins (a checksum mismatch further back is met by readers, which then cut there). `fd` may be
 * read-only.
 */
export function checkTail(pf: PartitionFile, fd: number, from: LogPoint): LogPoint {
  const walked = scanRecords(fd, from, Number.POSITIVE_INFINITY, fstatSync(fd).size, pf.version);
  return point(walked.damage ? cutDamagedTail(pf, fd, from) : walked);
}

/**
 * Under the cut lock: finds the first damaged record from `from` on and cuts the tail there when that is safe.
 * Returns where the intact records end, with `damage` set if damage remains there (not safe to cut).
 */
export function cutDamagedTail(pf: PartitionFile, fd: number, from: LogPoint): ScanResult {
  return withCutLock(cutLock(pf), () => {
    const size = fstatSync(fd).size;
    const end = scanRecords(fd, from, Number.POSITIVE_INFINITY, size, pf.version, true);
    if (!end.damage || otherLiveWriters(pf.topicDir).length > 0) return end;
    const side = `${pf.file}.damaged-${end.offset}-${Date.now()}`;
    copyRange(fd, end.position, size, side, pf.fsync);
    cutTo(pf, end.position);
    process.stderr.write(
      `embedded log: ${pf.topic}/${pf.partition}: ${end.damage.kind} record at offset ${end.offset} ` +
        `(byte ${end.position}, ` +
        `${end.damage.detail}): cut ${size - end.position} bytes, kept in ${side}; the records before it are intact\n`,
    );
    return point(end);
  });
}

const point = (r: ScanResult): LogPoint => ({ offset: r.offset, position: r.position });

/**
 * After an append to `fd` failed part-way, cuts the file back to `start`, where the append began, and returns the
 * error to throw, which names the fix. So a failed send leaves none of its records behind, complete or not.
 * `intact` is a record boundary at or before `start` (to tell the offset there).
 */
export function cutBackAfterFailedAppend(
  pf: PartitionFile,
  fd: number,
  start: number,
  intact: LogPoint,
  cause: unknown,
): Error {
  let outcome: string;
  try {
    outcome = withCutLock(cutLock(pf), () => {
      const size = fstatSync(fd).size;
      if (size <= start) return 'none of its bytes reached the file';
      const others = otherLiveWriters(pf.topicDir);
      if (others.length > 0) {
        return (
          `its ${size - start} bytes are left in place because process ${others.join(', ')} also writes this ` +
          `topic; a partial record among them is cut when the partition is next opened with no other writer`
        );
      }
      // No other writer is registered, so every byte after `start` is this append's.
      const at = scanRecords(fd, intact, Number.POSITIVE_INFINITY, start, pf.version);
      ftruncateSync(fd, start);
      if (pf.fsync) fdatasyncSync(fd);
      return `cut back ${size - start} bytes, to offset ${at.offset} where this append started`;
    });
  } catch (e) {
    outcome = `could not cut back (${(e as Error).message}); a partial record is cut when the partition is next opened`;
  }
  return appendError(pf, cause, outcome);
}

/** The error a failed append throws: what happened, the fix, and what became of the partial write. */
function appendError(pf: PartitionFile, cause: unknown, outcome: string): Error {
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  const logDir = dirname(pf.topicDir);
  const what =
    code === 'ENOSPC'
      ? `no space left under ${logDir} (ENOSPC appending to ${pf.topic}/${pf.partition}): free space and run again`
      : code === 'EIO'
        ? `I/O error (EIO) appending to ${pf.file}: check the disk and run again`
        : `could not append to ${pf.file}: ${(cause as Error)?.message ?? String(cause)}`;
  const error = new Error(`embedded log: ${what}; nothing acknowledged was lost (${outcome})`, { cause });
  if (code !== undefined) (error as NodeJS.ErrnoException).code = code;
  return error;
}

function cutTo(pf: PartitionFile, position: number): void {
  const wfd = openSync(pf.file, 'r+');
  try {
    ftruncateSync(wfd, position);
    if (pf.fsync) fdatasyncSync(wfd);
  } finally {
    closeSync(wfd);
  }
}

/** Copies bytes [from, to) of `fd` to a new file `path`, 1 MB at a time; leaves no partial copy behind. */
function copyRange(fd: number, from: number, to: number, path: string, fsync: boolean): void {
  const out = openSync(path, 'wx');
  try {
    const buf = Buffer.allocUnsafe(Math.min(1 << 20, to - from));
    for (let p = from; p < to; ) {
      const got = readSync(fd, buf, 0, Math.min(buf.length, to - p), p);
      if (got === 0) break;
      for (let done = 0; done < got; ) done += writeSync(out, buf, done, got - done);
      p += got;
    }
    if (fsync) fdatasyncSync(out);
  } catch (e) {
    closeSync(out);
    unlinkSync(path);
    const fix = (e as NodeJS.ErrnoException).code === 'ENOSPC' ? ': free space and open it again' : '';
    throw new Error(
      `embedded log: could not keep a damaged tail in ${path} before cutting it (${(e as Error).message})${fix}`,
      { cause: e },
    );
  }
  closeSync(out);
}
