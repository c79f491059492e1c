/**
 * Who may be appending to a topic's partition files, and who is cutting one: what makes cutting a damaged tail
 * safe while several processes share a topic.
 *
 * A torn tail cannot be told from a write still in flight by its bytes, so a tail is only cut when no other live
 * process is registered as a writer of the topic, and only under the partition's cut lock:
 *
 *   <topic>/writers/<pid>.<random>     a producer of process <pid> may append to the topic (one per producer)
 *   <topic>/<partition>.log.cut-lock   held while that partition's tail is checked and cut
 *
 * A producer registers before it checks a partition's tail and appends; a cutter looks at the registrations while
 * holding the lock. So either the cutter sees the producer and leaves the tail alone, or the producer finds the
 * damage, waits for the lock, and appends after the cut.
 *
 * Both are symlinks whose target is the owner's pid: creating one is atomic (it fails if the name exists) and needs
 * no data block, so they work on a full disk, which is when a cut is needed most. An entry whose pid is no longer
 * running is stale: a registration is removed by whoever sees it, a lock is taken over.
 *
 * Limitation (as in lock.ts): a pid recycled by an unrelated process makes a stale entry look live. A stale
 * registration then keeps a torn tail from being cut (readers wait at it); the error and the README name the
 * `writers/` directory, whose entries can be removed when no driftline process runs.
 */
import { mkdirSync, readdirSync, readlinkSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isProcessAlive } from './lock.ts';

const registered = new Set<string>();
let exitHookInstalled = false;

function isErrno(e: unknown, code: string): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === code;
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** The pid a mark names, or null if the mark is gone (or not a number). */
function ownerOf(path: string): number | null {
  try {
    const pid = Number.parseInt(readlinkSync(path), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
}

export function writersDir(topicDir: string): string {
  return join(topicDir, 'writers');
}

/** Registers this process as a writer of the topic; returns the registration to pass to unregisterWriter. */
export function registerWriter(topicDir: string): string {
  const dir = writersDir(topicDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${process.pid}.${randomBytes(6).toString('hex')}`);
  symlinkSync(String(process.pid), path);
  registered.add(path);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Best effort on a normal exit; after a crash the registration is stale and removed by the next reader.
    process.on('exit', () => {
      for (const p of registered) unlinkQuiet(p);
    });
  }
  return path;
}

export function unregisterWriter(path: string): void {
  registered.delete(path);
  unlinkQuiet(path);
}

/** Pids of live processes other than this one registered as writers of the topic; drops stale registrations. */
export function otherLiveWriters(topicDir: string): number[] {
  const dir = writersDir(topicDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
  const live = new Set<number>();
  for (const name of names) {
    const pid = ownerOf(join(dir, name));
    if (pid === null || pid === process.pid) continue;
    if (isProcessAlive(pid)) live.add(pid);
    else unlinkQuiet(join(dir, name));
  }
  return [...live];
}

const WAIT_FOR_LOCK_MS = 60_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs `fn` holding the cut lock at `path`, waiting while another live process holds it (a check and cut takes
 * milliseconds to a few seconds). Synchronous, like the appends it orders itself with.
 */
export function withCutLock<T>(path: string, fn: () => T): T {
  const deadline = Date.now() + WAIT_FOR_LOCK_MS;
  while (!tryLock(path)) {
    if (Date.now() > deadline) {
      throw new Error(
        `embedded log: ${path} has been held by process ${ownerOf(path)} for over a minute; remove it if that is ` +
          `not a driftline process`,
      );
    }
    Atomics.wait(sleeper, 0, 0, 5);
  }
  try {
    return fn();
  } finally {
    if (ownerOf(path) === process.pid) unlinkQuiet(path);
  }
}

function tryLock(path: string): boolean {
  try {
    symlinkSync(String(process.pid), path);
    return true;
  } catch (e) {
    if (!isErrno(e, 'EEXIST')) throw e;
  }
  const owner = ownerOf(path);
  // This process holds the lock only inside withCutLock, never nested: a lock naming it is left from a dead process.
  if (owner === null || (owner !== process.pid && isProcessAlive(owner))) return false;
  // Stale: move it aside so only one racing taker wins, then make sure it was the stale one that moved.
  const aside = `${path}.stale.${process.pid}.${randomBytes(6).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return false;
    throw e;
  }
  const moved = ownerOf(aside);
  if (moved !== owner && moved !== null) {
    try {
      symlinkSync(String(moved), path); // someone else's fresh lock: put it back
    } catch {
      /* a third party holds it now */
    }
  }
  unlinkQuiet(aside);
  return false;
}
