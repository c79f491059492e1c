import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { transportConformance } from '../../streams/kernel/transport/transport-conformance.ts';
import {
  partitionForKey,
  type ConsumedMessage,
  type Consumer,
  type Message,
} from '../../streams/kernel/transport/transport.ts';
import { EmbeddedLogTransport } from './embedded-log.ts';
import { encodeRecords, FORMAT_VERSION } from './format.ts';

const root = mkdtempSync(join(tmpdir(), 'driftline-embedded-log-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirCounter = 0;
const freshDir = (): string => join(root, `log-${++dirCounter}`);

transportConformance('embedded', async () => new EmbeddedLogTransport({ dir: join(root, 'conformance') }));

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const childScript = fileURLToPath(new URL('./fixtures/child.ts', import.meta.url));

function spawnChild(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', childScript, ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

function waitForExit(child: ChildProcess): Promise<number | null> {
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal === null) reject(new Error(`child exited with ${code}: ${stderr}`));
      else resolve(code);
    });
  });
}

function waitForReady(child: ChildProcess): Promise<void> {
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before ready: ${err}`)));
  });
}

async function drain(consumer: Consumer, count: number, timeoutMs = 15_000): Promise<ConsumedMessage[]> {
  const got: ConsumedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count) {
    if (Date.now() > deadline) throw new Error(`timed out: received ${got.length} of ${count}`);
    for (const b of await consumer.poll(100)) got.push(...b.messages);
  }
  return got;
}

const msg = (key: string | null, value: string, extra: Partial<Message> = {}): Message => ({
  key,
  value: Buffer.from(value),
  timestamp: 1_700_000_000_000,
  ...extra,
});

describe('embedded log', () => {
  it('lays out meta.json, version-prefixed partition files and group files with offset and byte position', async () => {
    const dir = freshDir();
    const log = new EmbeddedLogTransport({ dir });
    await log.ensureTopic('events', 2);
    expect(JSON.parse(readFileSync(join(dir, 'events', 'meta.json'), 'utf8'))).toEqual({ partitions: 2 });
    for (const p of [0, 1]) expect([...readFileSync(join(dir, 'events', `${p}.log`))]).toEqual([FORMAT_VERSION]);

    const sent = Array.from({ length: 10 }, (_, i) =>
      msg(`k${i}`, `value-${i}`, { partition: 0, headers: { i: String(i) } }),
    );
    const producer = await log.producer();
    await producer.send('events', sent);
    expect(readFileSync(join(dir, 'events', '0.log')).length).toBe(1 + encodeRecords(sent).length);

    const consumer = await log.consumer({ group: 'my group/1', topics: ['events'] });
    await drain(consumer, 10);
    // Offset 7 is inside the batch just read, so its position has to be found by walking the records.
    await consumer.commit([{ topic: 'events', partition: 0, offset: 7 }]);
    const groupFile = join(dir, 'events', 'groups', `${encodeURIComponent('my group/1')}.json`);
    expect(JSON.parse(readFileSync(groupFile, 'utf8'))).toEqual({
      partitions: { '0': { offset: 7, position: 1 + encodeRecords(sent.slice(0, 7)).length } },
    });
    expect(existsSync(join(dir, 'events', 'groups', `${encodeURIComponent('my group/1')}.lock`))).toBe(true);
    await consumer.close();
    expect(existsSync(join(dir, 'events', 'groups', `${encodeURIComponent('my group/1')}.lock`))).toBe(false);

    const again = await log.consumer({ group: 'my group/1', topics: ['events'] });
    const rest = await drain(again, 3);
    expect(rest.map((m) => `${m.offset}:${m.value.toString()}`)).toEqual(['7:value-7', '8:value-8', '9:value-9']);
    await expect(again.commit([{ topic: 'events', partition: 0, offset: 11 }])).rejects.toThrow(/ends at offset 10/);
    await log.close();
  });

  it('partitions by partitionForKey, round-robins null keys and honours an explicit partition', async () => {
    const log = new EmbeddedLogTransport({ dir: freshDir() });
    await log.ensureTopic('t', 5);
    const producer = await log.producer();
    const keys = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    await producer.send('t', [...keys.map((k) => msg(k, k)), msg('user-0', 'pinned', { partition: 4 })]);
    await producer.send(
      't',
      Array.from({ length: 10 }, (_, i) => msg(null, `null-${i}`)),
    );
    const consumer = await log.consumer({ group: 'g', topics: ['t'] });
    const got = await drain(consumer, 41);
    for (const m of got) {
      if (m.value.toString() === 'pinned') expect(m.partition).toBe(4);
      else if (m.key !== null) expect(m.partition).toBe(partitionForKey(m.key, 5, 0));
    }
    const nullCounts = [0, 0, 0, 0, 0];
    for (const m of got) if (m.key === null) nullCounts[m.partition]!++;
    expect(nullCounts).toEqual([2, 2, 2, 2, 2]);
    await log.close();
  });

  it('hands a live consumer the partitions added by ensureTopic', async () => {
    const log = new EmbeddedLogTransport({ dir: freshDir() });
    await log.ensureTopic('grow', 1);
    const consumer = await log.consumer({ group: 'g', topics: ['grow'] });
    expect(await consumer.poll(50)).toEqual([]);
    await log.ensureTopic('grow', 3);
    const producer = await log.producer();
    await producer.send('grow', [msg(null, 'in-2', { partition: 2 })]);
    const [m] = await drain(consumer, 1, 5_000);
    expect([m!.partition, m!.offset, m!.value.toString()]).toEqual([2, 0, 'in-2']);
    await log.close();
  });

  it('limits each batch to maxBatchRecords per partition', async () => {
    const log = new EmbeddedLogTransport({ dir: freshDir() });
    await log.ensureTopic('t', 2);
    const producer = await log.producer();
    const batch: Message[] = [];
    for (let i = 0; i < 25; i++) batch.push(msg(null, `a${i}`, { partition: 0 }), msg(null, `b${i}`, { partition: 1 }));
    await producer.send('t', batch);
    const consumer = await log.consumer({ group: 'g', topics: ['t'], maxBatchRecords: 10 });
    const sizes: number[][] = [];
    for (let i = 0; i < 3; i++) sizes.push((await consumer.poll(100)).map((b) => b.messages.length));
    expect(sizes).toEqual([
      [10, 10],
      [10, 10],
      [5, 5],
    ]);
    expect(await consumer.caughtUp()).toBe(true);
    await log.close();
  });

  it('reports endOffsets per partition', async () => {
    const log = new EmbeddedLogTransport({ dir: freshDir() });
    await log.ensureTopic('t', 3);
    expect(await log.endOffsets('t')).toEqual([0, 0, 0]);
    const producer = await log.producer();
    await producer.send('t', [
      msg(null, 'a', { partition: 0 }),
      msg(null, 'b', { partition: 2 }),
      msg(null, 'c', { partition: 2 }),
    ]);
    expect(await log.endOffsets('t')).toEqual([1, 0, 2]);
    await producer.send('t', [msg(null, 'd', { partition: 2 })]);
    expect(await log.endOffsets('t')).toEqual([1, 0, 3]);
    // A second transport (another process, in effect) sees the same.
    expect(await new EmbeddedLogTransport({ dir: log.dir }).endOffsets('t')).toEqual([1, 0, 3]);
    expect(await log.endOffsets('missing')).toEqual([]);
    await log.close();
  });

  it('fails clearly on a missing topic, a missing partition and an unknown format version', async () => {
    const dir = freshDir();
    const log = new EmbeddedLogTransport({ dir });
    const producer = await log.producer();
    await expect(producer.send('nope', [msg('k', 'v')])).rejects.toThrow(/topic "nope" does not exist/);
    await log.ensureTopic('t', 2);
    await expect(producer.send('t', [msg('k', 'v', { partition: 2 })])).rejects.toThrow(/partition 2 does not exist/);
    await expect(log.ensureTopic('../escape', 1)).rejects.toThrow(/invalid topic name/);
    writeFileSync(join(dir, 't', '1.log'), Buffer.from([99]));
    await expect(log.consumer({ group: 'g', topics: ['t'] })).rejects.toThrow(/format version 99/);
    // The failed consumer released its lock.
    expect(existsSync(join(dir, 't', 'groups', 'g.lock'))).toBe(false);
    await log.close();
  });

  it('works with fsync enabled', async () => {
    const log = new EmbeddedLogTransport({ dir: freshDir(), fsync: true });
    await log.ensureTopic('t', 2);
    const producer = await log.producer();
    await producer.send('t', [msg('a', '1'), msg('b', '2'), msg('c', '3')]);
    const consumer = await log.consumer({ group: 'g', topics: ['t'] });
    const got = await drain(consumer, 3);
    await consumer.commit(got.map((m) => ({ topic: 't', partition: m.partition, offset: m.offset + 1 })));
    await log.close();
  });

  it('waits for a record another live writer is still writing, and cuts it once that writer is gone', async () => {
    const dir = freshDir();
    const log = new EmbeddedLogTransport({ dir });
    await log.ensureTopic('t', 1);
    const producer = await log.producer();
    await producer.send('t', [msg('k', 'first'), msg('k', 'second')]);
    const consumer = await log.consumer({ group: 'g', topics: ['t'] });
    expect((await drain(consumer, 2)).map((m) => m.value.toString())).toEqual(['first', 'second']);

    // Another live process registered as a writer: an incomplete tail may be its write in flight.
    const writer = spawnChild(['writer', dir, 't']);
    const stderr = vi.spyOn(process.stderr, 'write');
    try {
      await waitForReady(writer);
      const value = Buffer.alloc(3000, 0xab);
      const record = encodeRecords([{ key: 'torn', value, timestamp: 42, headers: { h: 'v' } }]);
      const file = join(dir, 't', '0.log');
      appendFileSync(file, record.subarray(0, 2)); // not even the whole length prefix
      expect(await consumer.poll(60)).toEqual([]);
      expect(await consumer.caughtUp()).toBe(false);
      appendFileSync(file, record.subarray(2, 1500)); // header complete, body not
      expect(await consumer.poll(60)).toEqual([]);
      appendFileSync(file, record.subarray(1500));
      const [m] = await drain(consumer, 1);
      expect([m!.offset, m!.key, m!.timestamp, m!.headers]).toEqual([2, 'torn', 42, { h: 'v' }]);
      expect(m!.value.equals(value)).toBe(true);
      expect(await consumer.caughtUp()).toBe(true);

      // This one never completes: its writer dies mid-write.
      appendFileSync(file, record.subarray(0, 700));
      expect(await consumer.caughtUp()).toBe(false);
      const exited = new Promise((resolve) => writer.on('exit', resolve));
      writer.kill('SIGKILL');
      await exited;
      expect(await consumer.caughtUp()).toBe(true); // cut, so --until-idle ends
      expect(readFileSync(file).length).toBe(
        1 + encodeRecords([msg('k', 'first'), msg('k', 'second')]).length + record.length,
      );
      const reports = stderr.mock.calls
        .map(([line]) => String(line))
        .filter((line) => line.includes('embedded log: t/0'));
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatch(/incomplete record at offset 3 .*cut 700 bytes/);

      await producer.send('t', [msg('k', 'after')]);
      const [after] = await drain(consumer, 1);
      expect([after!.offset, after!.value.toString()]).toEqual([3, 'after']);
    } finally {
      stderr.mockRestore();
      writer.kill('SIGKILL');
      await log.close();
    }
  }, 20_000);

  it('refuses a second live consumer in the same group and frees the group on close', async () => {
    const log = new EmbeddedLogTransport({ dir: freshDir() });
    await log.ensureTopic('t', 2);
    const first = await log.consumer({ group: 'g', topics: ['t'] });
    await expect(log.consumer({ group: 'g', topics: ['t'] })).rejects.toThrow(
      /consumer group "g" of topic "t" is already in use by this process/,
    );
    // A second transport on the same directory is refused the same way.
    await expect(new EmbeddedLogTransport({ dir: log.dir }).consumer({ group: 'g', topics: ['t'] })).rejects.toThrow(
      /already in use/,
    );
    const other = await log.consumer({ group: 'other', topics: ['t'] }); // other groups are fine
    await other.close();
    await first.close();
    const next = await log.consumer({ group: 'g', topics: ['t'] });
    await next.close();
    await log.close();
  });

  it('refuses a group held by another live process and takes the lock over once that process is dead', async () => {
    const dir = freshDir();
    const log = new EmbeddedLogTransport({ dir });
    await log.ensureTopic('t', 1);
    const child = spawnChild(['hold', dir, 't', 'g']);
    try {
      await waitForReady(child);
      const lockFile = join(dir, 't', 'groups', 'g.lock');
      expect(readFileSync(lockFile, 'utf8').trim()).toBe(String(child.pid));
      await expect(log.consumer({ group: 'g', topics: ['t'] })).rejects.toThrow(
        new RegExp(`already in use by process ${child.pid}`),
      );

      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGKILL'); // no chance to clean up: the lock file stays behind
      await exited;
      expect(readFileSync(lockFile, 'utf8').trim()).toBe(String(child.pid));

      const consumer = await log.consumer({ group: 'g', topics: ['t'] });
      expect(readFileSync(lockFile, 'utf8').trim()).toBe(String(process.pid));
      await consumer.close();
    } finally {
      child.kill('SIGKILL');
      await log.close();
    }
  }, 20_000);

  it('takes over a stale lock file left by a dead pid', async () => {
    const dir = freshDir();
    const log = new EmbeddedLogTransport({ dir });
    await log.ensureTopic('t', 1);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dir, 't', 'groups', 'g.lock'), `${dead}\n`);
    const consumer = await log.consumer({ group: 'g', topics: ['t'] });
    expect(readFileSync(join(dir, 't', 'groups', 'g.lock'), 'utf8').trim()).toBe(String(process.pid));
    await consumer.close();
    await log.close();
  });

  it('sees records appended by another process while consuming', async () => {
    const dir = freshDir();
    const log = new EmbeddedLogTransport({ dir });
    await log.ensureTopic('t', 1);
    const consumer = await log.consumer({ group: 'g', topics: ['t'] });
    expect(await consumer.poll(20)).toEqual([]);

    const child = spawnChild(['produce', dir, 't', 'child', '10', '500', '30']);
    const exit = waitForExit(child);
    const got: ConsumedMessage[] = [];
    let readWhileChildRan = false;
    let childDone = false;
    void exit.then(
      () => (childDone = true),
      () => undefined,
    );
    const deadline = Date.now() + 20_000;
    while (got.length < 5000 && Date.now() < deadline) {
      for (const b of await consumer.poll(100)) {
        got.push(...b.messages);
        if (!childDone) readWhileChildRan = true;
      }
    }
    await exit;
    expect(got.length).toBe(5000);
    expect(readWhileChildRan).toBe(true);
    got.forEach((m, i) => {
      expect(m.offset).toBe(i);
      expect(m.value.toString()).toBe(`child:${i}`);
      expect(m.headers).toEqual({ tag: 'child' });
    });
    expect(await consumer.caughtUp()).toBe(true);
    await log.close();
  }, 30_000);

  it('keeps whole sends intact when two processes append to one partition concurrently', async () => {
    const dir = freshDir();
    const log = new EmbeddedLogTransport({ dir });
    await log.ensureTopic('t', 1);
    const children = ['a', 'b'].map((tag) => spawnChild(['produce', dir, 't', tag, '40', '1000', '0']));
    const consumer = await log.consumer({ group: 'g', topics: ['t'] });
    const drained = drain(consumer, 80_000, 30_000);
    await Promise.all(children.map(waitForExit));
    const got = await drained;
    const next = { a: 0, b: 0 };
    for (const m of got) {
      const [tag, seq] = m.value.toString().split(':') as ['a' | 'b', string];
      expect(m.key).toBe(tag);
      expect(Number(seq)).toBe(next[tag]++);
    }
    expect(next).toEqual({ a: 40_000, b: 40_000 });
    expect(await log.endOffsets('t')).toEqual([80_000]);
    await log.close();
  }, 40_000);
});
