/**
 * Exclusive pid lock files for consumer groups. Embedded mode is single-node: one consumer (in one
 * process) owns a group's partitions, so a second one must be refused instead of silently reading the
 * same records.
 *
 * The lock file holds the owner's pid. It is created complete and exclusively (written to a temp file,
 * then hard-linked to the lock name, which fails if the name exists). A lock whose pid is no longer
 * running is stale and is taken over: it is first renamed aside (only one of several racing takers can
 * rename it) and its content re-checked, so two processes never both believe they hold the lock.
 *
 * Limitation: a pid recycled by an unrelated process makes a stale lock look live; the error message
 * names the lock file so it can be removed by hand.
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export class LockHeldError extends Error {
  readonly pid: number;
  readonly lockFile: string;
  constructor(message: string, pid: number, lockFile: string) {
    super(message);
    this.name = 'LockHeldError';
    this.pid = pid;
    this.lockFile = lockFile;
  }
}

const held = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Best effort on a normal exit; after a crash or a kill the lock is stale and gets taken over.
  process.on('exit', () => {
    for (const path of held) releaseLock(path);
  });
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/**
 * Takes the lock at `path` for this process or throws LockHeldError when a live process holds it.
 * `what` describes the locked thing for the error message, e.g. `consumer group "g" of topic "t"`.
 */
export function acquireLock(path: string, what: string): void {
  const mine = `${process.pid}\n`;
  for (let attempt = 0; attempt < 10; attempt++) {
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, mine);
    try {
      linkSync(tmp, path);
      held.add(path);
      installExitHook();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      unlinkQuiet(tmp);
    }

    const content = readOrNull(path);
    if (content === null) continue; // released in the meantime
    const pid = Number.parseInt(content, 10);
    if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) {
      const who = pid === process.pid ? `this process (pid ${pid})` : `process ${pid}`;
      throw new LockHeldError(
        `embedded log: ${what} is already in use by ${who}. Embedded mode allows one consumer per group; ` +
          `close the other consumer or use a different group. (Lock file: ${path}; remove it only if ` +
          `process ${pid} is not a driftline consumer.)`,
        pid,
        path,
      );
    }

    // Stale: move it aside so that only one racing taker wins, then make sure we moved the stale one.
    const aside = `${path}.stale.${process.pid}.${randomBytes(6).toString('hex')}`;
    try {
      renameSync(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const moved = readOrNull(aside);
    if (moved !== content) {
      // Someone else took over between our read and our rename: put their lock back and re-check.
      try {
        linkSync(aside, path);
      } catch {
        /* a third party holds it now; the next attempt sees it */
      }
    }
    unlinkQuiet(aside);
  }
  throw new Error(`embedded log: could not acquire lock ${path} for ${what} (too much contention)`);
}

/** Removes the lock if this process holds it. */
export function releaseLock(path: string): void {
  held.delete(path);
  const content = readOrNull(path);
  if (content !== null && Number.parseInt(content, 10) === process.pid) unlinkQuiet(path);
}
