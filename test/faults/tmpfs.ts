/**
 * A small tmpfs for fault tests: a disk that really fills up. Mounting needs root (CAP_SYS_ADMIN); where that is not
 * permitted, `mountTmpfs` returns the reason, and the tests that need it skip and print it.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';

/** Mounts a tmpfs of `size` (e.g. `8m`) on the existing directory `dir`; null on success, else why it could not. */
export function mountTmpfs(dir: string, size: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (error) {
    const detail = String((error as { stderr?: Buffer }).stderr ?? '').trim() || (error as Error).message;
    return `mount -t tmpfs is not permitted here (${detail}), so the full-disk tests are skipped`;
  }
}

/** Grows (or shrinks) a mounted tmpfs in place; its files stay. */
export function resizeTmpfs(dir: string, size: string): void {
  execFileSync('mount', ['-o', `remount,size=${size}`, dir], { stdio: 'pipe' });
}

export function unmountTmpfs(dir: string): void {
  execFileSync('umount', [dir], { stdio: 'pipe' });
}

/** Writes `path` until the file system has no byte left; returns the bytes written. */
export function fillUp(path: string): number {
  const fd = openSync(path, 'a');
  let written = 0;
  try {
    for (const chunk of [Buffer.alloc(1 << 20), Buffer.alloc(4096), Buffer.alloc(1)]) {
      try {
        for (;;) written += writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}
