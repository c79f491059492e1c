/**
 * Warehouse sink throughput: 200,000 postings-shaped rows (~500 bytes of JSON each) written through the sinks in
 * 10,000-row batches, as the runtime would hand them over; ClickHouse (CLICKHOUSE_URL, default
 * http://127.0.0.1:8123) into a fresh table each repetition, and the embedded DuckDB warehouse in a fresh temp dir.
 * Timings include toRow, validation, serialisation and the durable acknowledgement. Against the raw client and
 * Quix Streams: bench/peers (bench/README.md).
 *
 *   npx tsx bench/warehouse.bench.ts [rows] [repetitions] [concurrency] [batch]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { clickhouseCreateTable } from '../connectors/warehouse/clickhouse-ddl.ts';
import { clickhouseSink } from '../connectors/warehouse/clickhouse-sink.ts';
import { rowRecords } from '../connectors/warehouse/sample-rows.ts';
import type { Row } from '../connectors/warehouse/tables.ts';
import { openWarehouse } from '../connectors/warehouse/warehouse.ts';
import { ROW_SHAPES, type ShapeName } from './peers/clickhouse-rows.ts';
import { formatSpread, spread } from './stats.ts';

const ROWS = Number(process.argv[2] ?? 200_000);
const REPETITIONS = Number(process.argv[3] ?? 5);
const CONCURRENCY = Number(process.argv[4] ?? 1);
const BATCH = Number(process.argv[5] ?? 10_000);
const URL = process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';

type TableName = ShapeName;
/** Two row shapes (peers/clickhouse-rows.ts): postings (~500 B, long text) and events (~145 B, numbers). */
const shapes = ROW_SHAPES;
const identity = (r: { value: Row }) => r.value;

/** Writes all batches keeping up to `concurrency` writes in flight, like the runtime does. */
async function writeAll<B>(batches: B[], write: (batch: B) => Promise<void>, concurrency: number) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches.length) await write(batches[next++]!);
    }),
  );
}

async function benchTable(table: TableName) {
  const records = rowRecords(Array.from({ length: ROWS }, (_, i) => shapes[table](i)));
  const batches = Array.from({ length: Math.ceil(ROWS / BATCH) }, (_, b) => records.slice(b * BATCH, (b + 1) * BATCH));
  const bytes = records.reduce((n, r) => n + JSON.stringify(r.value).length + 1, 0);
  console.log(
    `${table}: ${ROWS.toLocaleString('en-US')} rows (${(bytes / 1e6).toFixed(0)} MB JSONEachRow) ` +
      `in ${BATCH.toLocaleString('en-US')}-row batches, ${REPETITIONS} repetitions`,
  );

  const admin = createClient({ url: URL });
  const [{ version }] = (await (
    await admin.query({ query: 'SELECT version() AS version', format: 'JSONEachRow' })
  ).json()) as { version: string }[];
  const db = `driftline_bench_${process.pid}`;
  await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  const chRates: number[] = [];
  try {
    for (let rep = 1; rep <= REPETITIONS; rep++) {
      await admin.command({ query: `DROP TABLE IF EXISTS ${db}.${table}` });
      await admin.command({ query: clickhouseCreateTable(table, db) });
      const sink = clickhouseSink<Row>(table, identity, {
        url: URL,
        database: db,
        concurrency: CONCURRENCY,
        batchRecords: BATCH,
      });
      const start = process.hrtime.bigint();
      await writeAll(batches, (b) => sink.write(b), CONCURRENCY);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      await sink.close?.();
      const [{ n }] = (await (
        await admin.query({ query: `SELECT count() AS n FROM ${db}.${table} FINAL`, format: 'JSONEachRow' })
      ).json()) as { n: string }[];
      if (Number(n) !== ROWS) throw new Error(`ClickHouse has ${n} rows, expected ${ROWS}`);
      chRates.push(ROWS / seconds);
    }
  } finally {
    await admin.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await admin.close();
  }

  const duckRates: number[] = [];
  for (let rep = 1; rep <= REPETITIONS; rep++) {
    const dir = mkdtempSync(join(tmpdir(), 'driftline-bench-wh-'));
    try {
      const wh = await openWarehouse({ home: dir, clickhouseUrl: undefined });
      await wh.ensureTables([table]);
      const sink = wh.sink<Row>(table, identity);
      const start = process.hrtime.bigint();
      await writeAll(batches, (b) => sink.write(b), 1);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const [{ n }] = (await wh.query(`SELECT count(*) AS n FROM ${table}`)) as { n: number }[];
      if (Number(n) !== ROWS) throw new Error(`DuckDB has ${n} rows, expected ${ROWS}`);
      await wh.close();
      duckRates.push(ROWS / seconds);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`  ClickHouse ${version} sink (concurrency ${CONCURRENCY}): ${formatSpread(spread(chRates), ' rows/s')}`);
  console.log(`  DuckDB sink:                    ${formatSpread(spread(duckRates), ' rows/s')}`);
}

await benchTable('postings');
await benchTable('events');
