import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedLogTransport } from '../../connectors/embedded-log/embedded-log.ts';
import { FIRST_RECORD_POSITION } from '../../connectors/embedded-log/format.ts';
import { readFormatVersion, scanRecords } from '../../connectors/embedded-log/scan.ts';
import type { ConsumedMessage } from '../../streams/kernel/transport/transport.ts';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { dataDir, dataFile } from '../data-dir.ts';
import { driftline, driftlineOk, exitOf } from '../e2e/cli.ts';
import { fillUp, mountTmpfs, resizeTmpfs, unmountTmpfs } from './tmpfs.ts';

// Issue 16: the disk under DRIFTLINE_HOME fills up while `driftline produce` runs. DRIFTLINE_HOME is a small tmpfs
// with a filler file in it; the real CLI produces three NAB series into it until ENOSPC, then runs once more while
// the disk is still full, and after space is freed produces again and runs to the end. Compared with a clean run on
// an ordinary directory.

const INPUT = ['ambient_temperature_system_failure', 'ec2_request_latency_system_failure', 'nyc_taxi'].map((series) =>
  dataFile('events', 'nab', 'data', 'realKnownCause', `${series}.csv`),
);
const root = mkdtempSync(join(tmpdir(), 'driftline-disk-full-'));
const home = join(root, 'home');
mkdirSync(home);
const skipReason = mountTmpfs(home, '8m');
if (skipReason) process.stderr.write(`test/faults/disk-full: ${skipReason}\n`);
afterAll(() => {
  if (!skipReason) unmountTmpfs(home);
  rmSync(root, { recursive: true, force: true });
});

const env = (h: string) => ({
  DRIFTLINE_HOME: h,
  CLICKHOUSE_URL: '',
  KAFKA_BROKERS: '',
  DRIFTLINE_DATA_DIR: dataDir(),
});
const produced = (output: string): number => Number(/produced (\d+) records/.exec(output)![1]);

interface Outcome {
  /** Records the run read from the events topic. */
  recordsIn: number;
  /** Rows the events sink wrote. */
  landed: number;
  deadLetters: number;
  /** Rows in the events table. */
  events: number;
}

async function runUntilIdle(h: string): Promise<Outcome> {
  const output = await driftlineOk(['run', 'events', '--until-idle'], env(h));
  const runId = /run (\S+) done/.exec(output)![1]!;
  const warehouse = await openWarehouse({ home: h });
  try {
    const [run] = await warehouse.query(`SELECT records_in, dead_letters FROM pipeline_runs WHERE run_id = '${runId}'`);
    const [sink] = await warehouse.query(
      `SELECT records_out FROM pipeline_metrics WHERE run_id = '${runId}' AND stage = 'duckdb:events'`,
    );
    const [events] = await warehouse.query('SELECT count(*) AS n FROM events');
    return {
      recordsIn: Number(run!.records_in),
      landed: Number(sink!.records_out),
      deadLetters: Number(run!.dead_letters),
      events: Number(events!.n),
    };
  } finally {
    await warehouse.close();
  }
}

/** Records in the partitions of `events`, checking that each file ends exactly with an intact record. */
function intactRecords(h: string): number {
  const dir = join(h, 'log', 'events');
  let records = 0;
  for (const name of readdirSync(dir).filter((n) => /^\d+\.log$/.test(n))) {
    const fd = openSync(join(dir, name), 'r');
    try {
      const size = fstatSync(fd).size;
      const end = scanRecords(
        fd,
        { offset: 0, position: FIRST_RECORD_POSITION },
        Number.POSITIVE_INFINITY,
        size,
        readFormatVersion(fd, name),
        true,
      );
      expect([name, end.damage, end.position]).toEqual([name, undefined, size]);
      records += end.offset;
    } finally {
      closeSync(fd);
    }
  }
  return records;
}

/** Every record of the events topic, read from the start by a new group. */
async function readEverything(h: string): Promise<ConsumedMessage[]> {
  const log = new EmbeddedLogTransport({ dir: join(h, 'log') });
  try {
    const consumer = await log.consumer({ group: 'disk-full-check', topics: ['events'] });
    const got: ConsumedMessage[] = [];
    for (let batches = await consumer.poll(0); batches.length > 0; batches = await consumer.poll(0))
      for (const b of batches) got.push(...b.messages);
    return got;
  } finally {
    await log.close();
  }
}

describe.skipIf(skipReason !== null)('driftline on a disk that fills up under DRIFTLINE_HOME', () => {
  let clean: Outcome;
  let inputRecords: number;
  let cleanLog: ConsumedMessage[];
  beforeAll(async () => {
    const cleanHome = join(root, 'clean');
    inputRecords = produced(await driftlineOk(['produce', 'events', ...INPUT], env(cleanHome)));
    clean = await runUntilIdle(cleanHome);
    cleanLog = await readEverything(cleanHome);
  }, 120_000);

  it('loses nothing acknowledged, leaves no torn record or empty warehouse, finishes once space is freed', async () => {
    writeFileSync(join(home, 'filler'), Buffer.alloc(6_000_000)); // about 2 MB left: less than the input needs

    const first = driftline(['produce', 'events', ...INPUT], env(home));
    expect(await exitOf(first)).toBe(1);
    const message = new RegExp(
      `no space left under DRIFTLINE_HOME \\(${home}\\): free space and run again; nothing acknowledged was lost ` +
        `\\((\\d+) records were acknowledged`,
    );
    expect(first.output()).toMatch(message);
    const acknowledged = Number(message.exec(first.output())![1]);
    expect(acknowledged).toBeGreaterThan(0);
    expect(acknowledged).toBeLessThan(inputRecords);
    expect(intactRecords(home)).toBe(acknowledged); // the failed append was cut back: no torn bytes, nothing extra

    // Still full: the run cannot create the warehouse, and must not leave a file that breaks later runs.
    fillUp(join(home, 'filler-2'));
    const blocked = driftline(['run', 'events', '--until-idle'], env(home));
    expect(await exitOf(blocked)).toBe(1);
    expect(blocked.output()).toContain(
      `warehouse: no space left under ${home} to create ${join(home, 'warehouse.duckdb')}: free space and run again`,
    );
    expect(existsSync(join(home, 'warehouse.duckdb'))).toBe(false);

    resizeTmpfs(home, '64m');
    for (const filler of ['filler', 'filler-2']) unlinkSync(join(home, filler));
    expect(produced(await driftlineOk(['produce', 'events', ...INPUT], env(home)))).toBe(inputRecords);
    const after = await runUntilIdle(home); // returns: no hang at a torn record

    console.log(
      `disk full after ${acknowledged} of ${inputRecords} records; then: ${JSON.stringify(after)}; clean ` +
        `run: ${JSON.stringify(clean)}`,
    );
    expect(after.recordsIn).toBe(acknowledged + inputRecords); // every acknowledged record was read
    expect(after.recordsIn).toBe(after.landed + after.deadLetters);
    expect(clean.recordsIn).toBe(clean.landed + clean.deadLetters);
    expect([after.events, after.deadLetters]).toEqual([clean.events, clean.deadLetters]); // redelivered events upsert
    expect(clean.events).toBe(inputRecords - clean.deadLetters);

    // The log holds the acknowledged records of the first produce and all of the second: each one an input record,
    // and every input record there.
    const all = await readEverything(home);
    expect(all).toHaveLength(acknowledged + inputRecords);
    const distinct = (messages: ConsumedMessage[]) =>
      [...new Set(messages.map((m) => `${m.key}:${m.value.toString()}`))].sort();
    expect(distinct(all)).toEqual(distinct(cleanLog));
    const committed = JSON.parse(
      readFileSync(join(home, 'log', 'events', 'groups', 'driftline-events.json'), 'utf8'),
    ) as { partitions: Record<string, { offset: number }> };
    expect(Object.values(committed.partitions).reduce((n, p) => n + p.offset, 0)).toBe(acknowledged + inputRecords);
  }, 120_000);
});
