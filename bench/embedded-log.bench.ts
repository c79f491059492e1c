/**
 * Embedded log throughput: writes 1,000,000 records of 100-byte values in sends of 10,000, then reads
 * them back with one consumer; 5 repetitions, each in a fresh directory under the OS temp dir.
 *
 *   npx tsx bench/embedded-log.bench.ts [records] [repetitions] [partitions]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '../streams/kernel/transport/transport.ts';
import { EmbeddedLogTransport } from '../connectors/embedded-log/embedded-log.ts';

const RECORDS = Number(process.argv[2] ?? 1_000_000);
const REPETITIONS = Number(process.argv[3] ?? 5);
const PARTITIONS = Number(process.argv[4] ?? 1);
const BATCH = 10_000;
const VALUE_BYTES = 100;

function stats(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

// Messages are built once, outside the timed part: the benchmark measures the log, not the generator.
const value = Buffer.alloc(VALUE_BYTES, 7);
const batches: Message[][] = [];
const t0 = Date.now();
for (let b = 0; b < RECORDS / BATCH; b++) {
  const batch: Message[] = new Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    const n = b * BATCH + i;
    batch[i] = { key: `user-${n % 1000}`, value, timestamp: t0 + n };
  }
  batches.push(batch);
}

const writeRates: number[] = [];
const readRates: number[] = [];
for (let rep = 1; rep <= REPETITIONS; rep++) {
  const dir = mkdtempSync(join(tmpdir(), 'driftline-bench-'));
  const log = new EmbeddedLogTransport({ dir });
  try {
    await log.ensureTopic('bench', PARTITIONS);
    const producer = await log.producer();
    let start = process.hrtime.bigint();
    for (const batch of batches) await producer.send('bench', batch);
    let secs = Number(process.hrtime.bigint() - start) / 1e9;
    writeRates.push(RECORDS / secs);
    await producer.close();

    const consumer = await log.consumer({ group: 'bench', topics: ['bench'] });
    start = process.hrtime.bigint();
    let read = 0;
    let checksum = 0;
    while (read < RECORDS) {
      const got = await consumer.poll(1000);
      if (got.length === 0) throw new Error(`stalled after ${read} records`);
      for (const b of got) {
        read += b.messages.length;
        // Touch every message, as a consumer would.
        for (const m of b.messages) checksum += m.value.length + (m.key === null ? 0 : 1);
      }
    }
    secs = Number(process.hrtime.bigint() - start) / 1e9;
    readRates.push(read / secs);
    if (read !== RECORDS || !(await consumer.caughtUp())) throw new Error(`read ${read} of ${RECORDS}`);
    await consumer.close();
    console.log(
      `rep ${rep}: write ${fmt(writeRates.at(-1)!)} records/s, read ${fmt(readRates.at(-1)!)} records/s ` +
        `(checksum ${checksum})`,
    );
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const w = stats(writeRates);
const r = stats(readRates);
console.log(
  `\nembedded log, ${fmt(RECORDS)} records × ${VALUE_BYTES} B, sends of ${fmt(BATCH)}, ${PARTITIONS} ` +
    `partition(s), ${REPETITIONS} reps`,
);
console.log(`write: median ${fmt(w.median)} records/s (min ${fmt(w.min)}, max ${fmt(w.max)})`);
console.log(`read:  median ${fmt(r.median)} records/s (min ${fmt(r.min)}, max ${fmt(r.max)})`);
