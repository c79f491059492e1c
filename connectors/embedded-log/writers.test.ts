import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { otherLiveWriters, registerWriter, unregisterWriter, withCutLock, writersDir } from './writers.ts';

const root = mkdtempSync(join(tmpdir(), 'driftline-writers-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;

describe('embedded log writers and cut locks', () => {
  it('counts live writers other than this process and drops registrations of dead ones', () => {
    const topicDir = join(root, 'topic');
    const mine = registerWriter(topicDir);
    expect(otherLiveWriters(topicDir)).toEqual([]); // this process does not count: its appends are never in flight
    const dead = join(writersDir(topicDir), 'dead.1');
    symlinkSync(String(deadPid()), dead);
    const live = join(writersDir(topicDir), 'parent.1');
    symlinkSync(String(process.ppid), live); // the test runner: alive
    expect(otherLiveWriters(topicDir)).toEqual([process.ppid]);
    expect(existsSync(dead)).toBe(false);
    unregisterWriter(mine);
    expect(existsSync(mine)).toBe(false);
  });

  it('takes over a cut lock left by a dead process, holds it while the function runs, and frees it', () => {
    mkdirSync(join(root, 'locks'), { recursive: true });
    const lock = join(root, 'locks', '0.log.cut-lock');
    symlinkSync(String(deadPid()), lock);
    const owner = withCutLock(lock, () => readlinkSync(lock));
    expect(owner).toBe(String(process.pid));
    expect(existsSync(lock)).toBe(false);
    expect(() =>
      withCutLock(lock, () => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(existsSync(lock)).toBe(false);
  });
});
