import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { ConsumedMessage, Consumer, Message } from '../../streams/kernel/transport/transport.ts';
import { EmbeddedLogTransport, type WriteSync } from './embedded-log.ts';
import { encodeRecords, FIRST_RECORD_POSITION } from './format.ts';
import { writersDir } from './writers.ts';

const root = mkdtempSync(join(tmpdir(), 'driftline-tail-repair-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCounter = 0;
const freshDir = (): string => join(root, `log-${++dirCounter}`);

const msg = (value: string): Message => ({
  key: 'k',
  value: Buffer.from(value),
  timestamp: 1_700_000_000_000,
  headers: { h: value },
});
const msgs = (prefix: string, n: number): Message[] => Array.from({ length: n }, (_, i) => msg(`${prefix}-${i}`));

async function readAll(consumer: Consumer): Promise<ConsumedMessage[]> {
  const got: ConsumedMessage[] = [];
  for (;;) {
    const batches = await consumer.poll(0);
    if (batches.length === 0) return got;
    for (const b of batches) got.push(...b.messages);
  }
}

/** Opens a fresh transport on `dir` (as another process would), reads topic t from the start, closes. */
async function readTopic(dir: string): Promise<string[]> {
  const log = new EmbeddedLogTransport({ dir });
  try {
    const consumer = await log.consumer({ group: `g-${Math.random()}`, topics: ['t'] });
    return (await readAll(consumer)).map((m) => `${m.offset}:${m.value.toString()}`);
  } finally {
    await log.close();
  }
}

const expected = (values: string[]): string[] => values.map((v, i) => `${i}:${v}`);
const values = (messages: Message[]): string[] => messages.map((m) => m.value.toString());

let stderr = vi.spyOn(process.stderr, 'write');
afterEach(() => {
  stderr.mockRestore();
  stderr = vi.spyOn(process.stderr, 'write');
});
const reports = (): string[] =>
  stderr.mock.calls.map(([line]) => String(line)).filter((line) => line.startsWith('embedded log: t/'));
const sideFiles = (dir: string): string[] => readdirSync(join(dir, 't')).filter((name) => name.includes('.damaged-'));

describe('embedded log: checksums and damaged tails', () => {
  it('detects a checksum mismatch while reading: hands out the records before it, then cuts the tail', async () => {
    const dir = freshDir();
    const log = new EmbeddedLogTransport({ dir });
    await log.ensureTopic('t', 1);
    const sent = msgs('v', 10);
    await (await log.producer()).send('t', sent);

    // Flip one byte inside record 6's value: its length still fits, only the checksum can tell.
    const file = join(dir, 't', '0.log');
    const bytes = readFileSync(file);
    const damagedAt = FIRST_RECORD_POSITION + encodeRecords(sent.slice(0, 6)).length;
    bytes[damagedAt + encodeRecords([sent[6]!]).length - 2] ^= 0x20;
    writeFileSync(file, bytes);

    // While another live process is registered as a writer, the reader stops at it with a clear error.
    const other = join(writersDir(join(dir, 't')), 'other.1');
    symlinkSync(String(process.ppid), other); // the test runner: alive
    const blocked = await log.consumer({ group: 'blocked', topics: ['t'] });
    const before = await blocked.poll(0);
    expect(before.flatMap((b) => b.messages).map((m) => m.offset)).toEqual([0, 1, 2, 3, 4, 5]);
    await expect(blocked.poll(0)).rejects.toThrow(
      new RegExp(
        String.raw`corrupt record in .*0\.log at byte \d+: checksum mismatch \(offset ` +
          String.raw`6\)\. It is cut .* once no other process writes this topic`,
      ),
    );
    await blocked.close();
    expect(statSync(file).size).toBe(bytes.length);

    // Alone, the reader cuts it, keeping the bytes from there in a side file.
    unlinkSync(other);
    const consumer = await log.consumer({ group: 'g', topics: ['t'] });
    expect((await readAll(consumer)).map((m) => `${m.offset}:${m.value.toString()}`)).toEqual(
      expected(values(sent.slice(0, 6))),
    );
    expect(reports()).toHaveLength(1);
    expect(reports()[0]).toMatch(
      /^embedded log: t\/0: corrupt record at offset 6 \(byte \d+, checksum mismatch\): cut \d+ bytes/,
    );
    expect(readFileSync(join(dir, 't', sideFiles(dir)[0]!)).equals(bytes.subarray(damagedAt))).toBe(true);
    expect(statSync(file).size).toBe(damagedAt);
    await log.close();
  });

  it('cuts a torn tail at open, reports it once, and appends after the last good record', async () => {
    const dir = freshDir();
    const first = new EmbeddedLogTransport({ dir });
    await first.ensureTopic('t', 1);
    const before = msgs('before', 5);
    await (await first.producer()).send('t', before);
    await first.close();
    // A producer died in the middle of a write: 161 bytes of a 335-byte record.
    const file = join(dir, 't', '0.log');
    const torn = encodeRecords([msg('x'.repeat(150))]).subarray(0, 161);
    appendFileSync(file, torn);

    // Another process opens the partition to append: the tail is cut before its first write.
    const second = new EmbeddedLogTransport({ dir });
    const after = msgs('after', 4);
    await (await second.producer()).send('t', after);
    await second.close();

    expect(reports()).toHaveLength(1);
    expect(reports()[0]).toMatch(
      new RegExp(
        String.raw`^embedded log: t\/0: incomplete record at offset 5 \(byte \d+, a record of ` +
          String.raw`335 bytes with 161 present\): cut 161 bytes, kept in .*0\.log\.damaged-5-\d+`,
      ),
    );
    expect(readFileSync(join(dir, 't', sideFiles(dir)[0]!)).equals(torn)).toBe(true);
    expect(statSync(file).size).toBe(FIRST_RECORD_POSITION + encodeRecords([...before, ...after]).length);
    expect(await readTopic(dir)).toEqual(expected(values([...before, ...after])));
    expect(reports()).toHaveLength(1); // the consumer's open found nothing more to cut
  });

  it('cuts a torn write followed by a later append (the pre-checksum failure) rather than return garbage', async () => {
    const dir = freshDir();
    const log = new EmbeddedLogTransport({ dir });
    await log.ensureTopic('t', 1);
    await (await log.producer()).send('t', msgs('good', 3));
    await log.close();
    const file = join(dir, 't', '0.log');
    appendFileSync(file, encodeRecords(msgs('torn', 2)).subarray(0, 40));
    appendFileSync(file, encodeRecords(msgs('late', 20))); // appended after the torn bytes, as before the fix

    expect(await readTopic(dir)).toEqual(expected(values(msgs('good', 3))));
    expect(reports()[0]).toMatch(/t\/0: corrupt record at offset 3 .*checksum mismatch/);
  });

  it('cuts a failed append back to the last complete record and says how to fix it', async () => {
    const dir = freshDir();
    let fault: 'ENOSPC' | 'EIO' | null = null;
    let shortWrites = 0;
    // A filling disk: one short write, then the error.
    const write: WriteSync = (fd, buffer, offset, length) => {
      if (fault === null) return writeSync(fd, buffer, offset, length);
      if (shortWrites++ === 0) return writeSync(fd, buffer, offset, Math.floor(length / 2));
      throw Object.assign(new Error(`${fault}: simulated, write`), { code: fault });
    };
    const log = new EmbeddedLogTransport({ dir, writeSync: write });
    await log.ensureTopic('t', 1);
    const producer = await log.producer();
    const acked = msgs('a', 50);
    await producer.send('t', acked);
    const file = join(dir, 't', '0.log');
    const sizeBefore = statSync(file).size;

    fault = 'ENOSPC';
    const error = await producer.send('t', msgs('lost', 50)).catch((e: unknown) => e as NodeJS.ErrnoException);
    expect(error).toBeInstanceOf(Error);
    expect(error!.code).toBe('ENOSPC');
    expect(error!.message).toMatch(
      new RegExp(
        `^embedded log: no space left under ${dir} \\(ENOSPC appending to t/0\\): free space and run again; ` +
          `nothing acknowledged was lost \\(cut back \\d+ bytes, to offset 50 where this append started\\)$`,
      ),
    );
    expect(shortWrites).toBe(2); // half the batch did reach the file before it was cut
    expect(statSync(file).size).toBe(sizeBefore);

    fault = 'EIO';
    shortWrites = 0;
    await expect(producer.send('t', msgs('lost', 3))).rejects.toThrow(
      /I\/O error \(EIO\) appending to .*0\.log: check the disk and run again; nothing acknowledged was lost/,
    );
    expect(statSync(file).size).toBe(sizeBefore);

    fault = null; // space freed: the same producer goes on
    const more = msgs('b', 7);
    await producer.send('t', more);
    await log.close();
    expect(await readTopic(dir)).toEqual(expected(values([...acked, ...more])));
    expect(reports()).toEqual([]);
  });

  it('reads version-1 files (no checksums) as they are, appends in version 1, and cuts their torn tails', async () => {
    const dir = freshDir();
    const old = msgs('old', 4);
    mkdirSync(join(dir, 't'), { recursive: true });
    writeFileSync(join(dir, 't', 'meta.json'), '{"partitions": 1}\n');
    const file = join(dir, 't', '0.log');
    writeFileSync(
      file,
      Buffer.concat([Buffer.from([1]), encodeRecords(old, 1), encodeRecords([msg('torn')], 1).subarray(0, 9)]),
    );

    const log = new EmbeddedLogTransport({ dir });
    const added = msgs('new', 3);
    await (await log.producer()).send('t', added);
    await log.close();

    expect(readFileSync(file)[0]).toBe(1);
    expect(statSync(file).size).toBe(1 + encodeRecords([...old, ...added], 1).length);
    expect(await readTopic(dir)).toEqual(expected(values([...old, ...added])));
    expect(reports()).toHaveLength(1);
    expect(reports()[0]).toMatch(/t\/0: incomplete record at offset 4 .*cut 9 bytes/);
  });
});
