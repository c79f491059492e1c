import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatRows } from '../../cli/sql.ts';
import { type ModelComparison, modelComparisonRow } from '../../operators/compare/compare-models.ts';
import type { DeadLetter } from '../../streams/kernel/record.ts';
import { clickhouseCreateTable, countDistinctSql, countFinalSql } from './clickhouse-ddl.ts';
import { type RejectedRow, classifyClickHouseError, clickhouseSink } from './clickhouse-sink.ts';
import { duckdbCreateTable } from './duckdb-ddl.ts';
import { postingRow, rowRecords } from './sample-rows.ts';
import { type Row, TABLE_NAMES, TABLES, type TableDef } from './tables.ts';
import { type Warehouse, openWarehouse } from './warehouse.ts';

const CLICKHOUSE_URL = inject('CLICKHOUSE_URL');
const DB = `driftline_wh_test_${process.pid}_${Date.now() % 100_000}`;
const identity = (r: { value: Row }) => r.value;
const rows = (from: number, to: number, version = 1) =>
  Array.from({ length: to - from }, (_, i) => postingRow(from + i, version));

async function writeInBatches(
  sink: { write(r: ReturnType<typeof rowRecords>): Promise<void> },
  all: Row[],
  batch: number,
) {
  for (let i = 0; i < all.length; i += batch) await sink.write(rowRecords(all.slice(i, i + batch), 'postings', i));
}

describe('table definitions → DDL', () => {
  it('uses only 18.16-compatible types and dedup engines', () => {
    for (const t of TABLE_NAMES) {
      const ddl = clickhouseCreateTable(t);
      expect(ddl).toMatch(/ENGINE = ReplacingMergeTree\(`version`\)\nORDER BY `id`$/);
      expect(ddl).not.toMatch(/DateTime64|LowCardinality|Map\(|Bool|TTL/);
      expect(duckdbCreateTable(t)).toContain('"id" VARCHAR PRIMARY KEY');
    }
    expect(clickhouseCreateTable('model_comparison')).toContain('`estimate_alert_a` Nullable(UInt8)');
    expect(duckdbCreateTable('model_comparison')).toContain('"estimate_alert_a" UTINYINT,');
  });
});

/** The CBPE columns model_comparison gained: a warehouse created before them must take them on. */
const ESTIMATE_COLUMNS = [
  'estimated_accuracy_a',
  'estimated_accuracy_b',
  'reference_accuracy_a',
  'reference_accuracy_b',
  'estimate_method',
  'estimate_alert_a',
  'estimate_alert_b',
];
const comparisonBeforeEstimates: TableDef = {
  ...TABLES.model_comparison,
  columns: TABLES.model_comparison.columns.filter((c) => !ESTIMATE_COLUMNS.includes(c.name)),
};

function comparison(start: number, estimated: boolean): ModelComparison {
  const [a, b] = estimated ? [0.8125, 0.6] : [null, null];
  return {
    pipeline: 'postings',
    window_start: start,
    window_end: start + 1_000,
    model_a_id: 'postings-a',
    model_b_id: 'postings-b',
    model_a: 'postings-a@v1',
    model_b: 'postings-b@v1,v2',
    records: 10,
    agreed: 7,
    agreement: 0.7,
    labeled: 0,
    correct_a: 0,
    correct_b: 0,
    accuracy_a: null,
    accuracy_b: null,
    estimated_accuracy_a: a,
    estimated_accuracy_b: b,
    reference_accuracy_a: estimated ? 0.85 : null,
    reference_accuracy_b: estimated ? 0.85 : null,
    estimate_method: estimated ? 'isotonic,platt' : null,
    estimate_alert_a: estimated ? false : null,
    estimate_alert_b: estimated ? true : null,
    version: 5,
    updated_at: 5,
  };
}

/**
 * A model_comparison made before the estimate columns gains them on ensureTables (twice: idempotent); its old row
 * reads null there, a new row carries them; a missing column that cannot be null is refused, not made up.
 */
async function upgradesModelComparison(wh: Warehouse, drop: (table: string) => Promise<void>, final: string) {
  await drop('model_comparison');
  await wh.ensureTables([comparisonBeforeEstimates]);
  const old = Object.fromEntries(
    Object.entries(modelComparisonRow(comparison(0, false), 'run-old')).filter(([k]) => !ESTIMATE_COLUMNS.includes(k)),
  );
  await wh.sink<Row>(comparisonBeforeEstimates, identity).write(rowRecords([old], 'model_comparison'));
  await wh.ensureTables(['model_comparison']);
  await wh.ensureTables(['model_comparison']);
  await wh
    .sink<Row>('model_comparison', identity)
    .write(
      rowRecords(
        [
          modelComparisonRow(comparison(1_000, true), 'run-new'),
          modelComparisonRow(comparison(2_000, false), 'run-new'),
        ],
        'model_comparison',
      ),
    );
  const rows = await wh.query(
    `SELECT run_id, window_start, agreement, ${ESTIMATE_COLUMNS.join(', ')} FROM model_comparison ${final} ORDER ` +
      `BY window_start`,
  );
  const nulls = Object.fromEntries(ESTIMATE_COLUMNS.map((c) => [c, null]));
  expect(rows).toEqual([
    { run_id: 'run-old', window_start: 0, agreement: 0.7, ...nulls },
    {
      run_id: 'run-new',
      window_start: 1_000,
      agreement: 0.7,
      estimated_accuracy_a: 0.8125,
      estimated_accuracy_b: 0.6,
      reference_accuracy_a: 0.85,
      reference_accuracy_b: 0.85,
      estimate_method: 'isotonic,platt',
      estimate_alert_a: 0,
      estimate_alert_b: 1,
    },
    { run_id: 'run-new', window_start: 2_000, agreement: 0.7, ...nulls },
  ]);
  const required = {
    ...TABLES.model_comparison,
    columns: [...TABLES.model_comparison.columns, { name: 'windows_seen', type: 'int64' as const }],
  };
  await expect(wh.ensureTables([required])).rejects.toThrow(
    'model_comparison was created without windows_seen (int64), which cannot be null',
  );
}

describe('ClickHouse warehouse (real server)', () => {
  let admin: ClickHouseClient;
  let wh: Warehouse;

  beforeAll(async () => {
    admin = createClient({ url: CLICKHOUSE_URL });
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${DB}` });
    wh = await openWarehouse({ home: '/nonexistent', clickhouseUrl: CLICKHOUSE_URL }, { clickhouseDatabase: DB });
  });
  afterAll(async () => {
    await wh?.close();
    await admin?.command({ query: `DROP DATABASE IF EXISTS ${DB}` });
    await admin?.close();
  });

  const count = async (sql: string) => Number((await wh.query(sql))[0]!.n);

  it('applies the DDL twice without error', async () => {
    expect(wh.kind).toBe('clickhouse');
    await wh.ensureTables();
    await wh.ensureTables();
    const tables = await wh.query(`SELECT name, engine FROM system.tables WHERE database = '${DB}' ORDER BY name`);
    expect(tables.map((t) => t.name)).toEqual([...TABLE_NAMES].sort());
    for (const t of tables) expect(t.engine).toBe('ReplacingMergeTree');
  });

  it('lands 25k rows written in batches with an exact count; redelivery does not duplicate under FINAL', async () => {
    const sink = wh.sink<Row>('postings', identity);
    expect(sink.batchRecords).toBe(10_000);
    expect(sink.maxWaitMs).toBe(1_000);
    const all = rows(0, 25_000);
    await writeInBatches(sink, all, 10_000);
    expect(await count(countFinalSql('postings'))).toBe(25_000);
    expect(await count(countDistinctSql('postings'))).toBe(25_000);
    await writeInBatches(sink, all, 10_000); // at-least-once redelivery of everything
    expect(await count(countFinalSql('postings'))).toBe(25_000);
    expect(await count(countDistinctSql('postings'))).toBe(25_000);
    const [sample] = await wh.query(`SELECT * FROM postings FINAL WHERE id = 'posting-10'`);
    expect(sample).toMatchObject({
      id: 'posting-10',
      skills: postingRow(10).skills,
      posted_at: postingRow(10).posted_at,
      salary_min: null,
    });
    await sink.close?.();
  });

  it('adds the estimate columns to an older model_comparison (no ADD COLUMN IF NOT EXISTS on 18.16)', async () => {
    await upgradesModelComparison(
      wh,
      (t) => admin.command({ query: `DROP TABLE IF EXISTS ${DB}.${t}` }).then(() => undefined),
      'FINAL',
    );
    const [type] = await wh.query(
      `SELECT type FROM system.columns WHERE database = '${DB}' AND table = 'model_comparison' AND name = ` +
        `'estimate_alert_a'`,
    );
    expect(type).toEqual({ type: 'Nullable(UInt8)' });
  });

  it('isolates rows ClickHouse rejects, inserts all the good ones and reports exactly the bad ones', async () => {
    await wh.ensureTables(['predictions']);
    const rejected: RejectedRow<Row>[] = [];
    // validate: false — let ClickHouse itself judge: a non-numeric string in a Float64 column is a parse error.
    const sink = wh.sink<Row>('predictions', identity, {
      validate: false,
      onRejected: (r) => void rejected.push(...r),
    });
    const badAt = new Set([17, 500, 998]);
    const batch: Row[] = Array.from({ length: 1_000 }, (_, i) => ({
      id: `rec-${i}/m/1`,
      version: 1,
      record_id: `rec-${i}`,
      model_id: 'm',
      model_version: '1',
      label: i % 2 ? 1 : null,
      probabilities: [0.25, 0.75],
      confidence: 0.75,
      latency_ms: badAt.has(i) ? 'not-a-number' : 1.25,
      predicted_at: 1_700_000_000_000 + i,
    }));
    await sink.write(rowRecords(batch, 'predictions'));
    expect(await count(countFinalSql('predictions'))).toBe(997);
    expect(rejected.map((r) => r.record.position.offset).sort((a, b) => a - b)).toEqual([...badAt]);
    for (const r of rejected) {
      expect(r.reason).toMatch(/Code: \d+/);
      expect(r.reason).toMatch(/DB::Exception/);
      expect(classifyClickHouseError(new Error(r.reason))).toBe('rows');
    }
  });

  it('without a rejection handler, throws after inserting the good rows (no silent drop)', async () => {
    await wh.query('SELECT 1');
    const sink = wh.sink<Row>('postings', identity, { validate: false });
    const good = postingRow(900_001);
    const bad = { ...postingRow(900_002), salary_min: 'lots' };
    await expect(sink.write(rowRecords([good, bad]))).rejects.toThrow(/1 of 2 rows rejected.*Code: \d+/s);
    expect(await count(countFinalSql('postings', `id IN ('posting-900001', 'posting-900002')`))).toBe(1);
  });

  it('validation catches values 18.16 would coerce silently; dead-letters go to the dead_letters table', async () => {
    const sink = wh.sink<Row>('frames', identity, { deadLetters: 'table' });
    const frame = (seq: number, channels: number) => ({
      id: `cam1/${seq}`,
      version: 1,
      camera_id: 'cam1',
      sequence: seq,
      captured_at: 1_700_000_000_000 + seq,
      width: 640,
      height: 480,
      channels,
      encoding: 'jpeg',
    });
    await sink.write(rowRecords([frame(1, 3), frame(2, 300), frame(3, 1)], 'frames'));
    expect(await count(countFinalSql('frames'))).toBe(2);
    const letters = await wh.query('SELECT * FROM dead_letters FINAL');
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      id: 'frames/0/1/clickhouse:frames',
      stage: 'clickhouse:frames',
      topic: 'frames',
      offset: 1,
    });
    expect(String(letters[0]!.error)).toMatch(/channels.*uint8/);
    expect(JSON.parse(Buffer.from(String(letters[0]!.original), 'base64').toString())).toMatchObject({ channels: 300 });
  });

  it('waits through an outage: retries connection refusals until ClickHouse is reachable, nothing lost', async () => {
    const port = await freePort();
    const retries: number[] = [];
    const sink = clickhouseSink<Row>('postings', identity, {
      url: `http://127.0.0.1:${port}`,
      database: DB,
      retry: { initialDelayMs: 50, maxDelayMs: 500, onRetry: (_e, attempt) => retries.push(attempt) },
    });
    const all = rows(100_000, 105_000);
    const started = Date.now();
    const writing = sink.write(rowRecords(all));
    let proxy: Server | undefined;
    const up = new Promise<void>((resolve) =>
      setTimeout(() => {
        proxy = tcpProxy(port, new URL(CLICKHOUSE_URL));
        resolve();
      }, 3_000),
    );
    await writing;
    await up;
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    expect(retries.length).toBeGreaterThan(2);
    expect(
      await count(countFinalSql('postings', `id >= 'posting-100000' AND id < 'posting-105000' AND length(id) = 14`)),
    ).toBe(5_000);
    await sink.close?.();
    await new Promise((r) => proxy!.close(r));
  });

  it('gives up after retry.maxTotalMs with the connection error', async () => {
    const port = await freePort();
    const sink = clickhouseSink<Row>('postings', identity, {
      url: `http://127.0.0.1:${port}`,
      database: DB,
      retry: { maxTotalMs: 800, initialDelayMs: 50 },
    });
    await expect(sink.write(rowRecords([postingRow(1)]))).rejects.toThrow(/still failing after .*ECONNREFUSED/);
    await sink.close?.();
  });

  it('treats missing tables as fatal rather than rejecting every row', async () => {
    const sink = clickhouseSink<Row>(
      {
        name: 'no_such_table',
        doc: '',
        columns: [
          { name: 'id', type: 'string' },
          { name: 'version', type: 'uint64' },
        ],
      },
      identity,
      {
        url: CLICKHOUSE_URL,
        database: DB,
        onRejected: () => {
          throw new Error('should not be called');
        },
      },
    );
    await expect(sink.write(rowRecords([{ id: 'a', version: 1 }]))).rejects.toThrow(/Code: 60/);
    await sink.close?.();
  });
});

describe('DuckDB warehouse (embedded)', () => {
  let dir: string;
  let wh: Warehouse;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'driftline-wh-'));
    wh = await openWarehouse({ home: dir, clickhouseUrl: undefined });
  });
  afterAll(async () => {
    await wh?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const count = async (sql: string) => Number((await wh.query(sql))[0]!.n);

  it('applies the DDL twice and creates warehouse.duckdb under home', async () => {
    expect(wh.kind).toBe('duckdb');
    expect(wh.location).toBe(join(dir, 'warehouse.duckdb'));
    await wh.ensureTables();
    await wh.ensureTables();
    const tables = await wh.query(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1`,
    );
    expect(tables.map((t) => t.name)).toEqual([...TABLE_NAMES].sort());
  });

  it('lands 25k rows with an exact count; redelivery and older versions do not duplicate or overwrite', async () => {
    const sink = wh.sink<Row>('postings', identity);
    const all = rows(0, 25_000);
    await writeInBatches(sink, all, 10_000);
    expect(await count('SELECT count(*) AS n FROM postings')).toBe(25_000);
    await writeInBatches(sink, all, 10_000);
    expect(await count('SELECT count(*) AS n FROM postings')).toBe(25_000);
    // Newer version wins, an older redelivery afterwards does not undo it; in-batch duplicates collapse.
    await sink.write(rowRecords([postingRow(5, 3), postingRow(5, 2), { ...postingRow(6, 2), title: 'v2' }]));
    await sink.write(rowRecords([{ ...postingRow(6, 1), title: 'stale' }]));
    const [r5] = await wh.query(`SELECT version FROM postings WHERE id = 'posting-5'`);
    const [r6] = await wh.query(`SELECT version, title FROM postings WHERE id = 'posting-6'`);
    expect(r5).toEqual({ version: 3 });
    expect(r6).toEqual({ version: 2, title: 'v2' });
    expect(await count('SELECT count(*) AS n FROM postings')).toBe(25_000);
    const [sample] = await wh.query(`SELECT * FROM postings WHERE id = 'posting-10'`);
    expect(sample).toMatchObject({ ...postingRow(10) });
  });

  it('adds the estimate columns to an older model_comparison, and writes rows in definition order', async () => {
    await upgradesModelComparison(wh, (t) => wh.query(`DROP TABLE IF EXISTS ${t}`).then(() => undefined), '');
    // A column added in the middle of a definition lands last in the table: rows still go to the right columns.
    const before: TableDef = {
      name: 'upgrade_probe',
      doc: '',
      columns: [...TABLES.labels.columns.slice(0, 2), { name: 'n', type: 'int64' }],
    };
    const after: TableDef = {
      ...before,
      columns: [...before.columns.slice(0, 2), { name: 'note', type: 'nullable_string' }, ...before.columns.slice(2)],
    };
    await wh.ensureTables([before]);
    await wh.ensureTables([after]);
    await wh
      .sink<Row>(after, identity)
      .write(rowRecords([{ id: 'x', version: 1, note: 'mid', n: 42 }], 'upgrade_probe'));
    expect(await wh.query('SELECT * FROM upgrade_probe')).toEqual([{ id: 'x', version: 1, n: 42, note: 'mid' }]);
  });

  it('rejects bad rows, keeps the good ones, dead-letters into dead_letters', async () => {
    const letters: DeadLetter[] = [];
    const sink = wh.sink<Row>('postings', identity, { deadLetters: async (l) => void letters.push(...l) });
    await sink.write(
      rowRecords([postingRow(30_000), { ...postingRow(30_001), salary_min: 'abc' }, postingRow(30_002)], 'in', 40),
    );
    expect(
      await count(`SELECT count(*) AS n FROM postings WHERE id IN ('posting-30000', 'posting-30001', 'posting-30002')`),
    ).toBe(2);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ stage: 'duckdb:postings', position: { topic: 'in', partition: 0, offset: 41 } });
    expect(letters[0]!.error).toMatch(/salary_min/);

    const tableSink = wh.sink<Row>('postings', identity, { deadLetters: 'table' });
    await tableSink.write(rowRecords([{ ...postingRow(30_003), unknown_column: 1 }], 'in', 50));
    const [dl] = await wh.query('SELECT * FROM dead_letters');
    expect(dl).toMatchObject({ id: 'in/0/50/duckdb:postings', topic: 'in', offset: 50 });
    expect(String(dl!.error)).toMatch(/unknown column/);
  });

  it('formats query results for the sql command', async () => {
    const result = await wh.query(
      `SELECT id, version, skills FROM postings WHERE id IN ('posting-1', 'posting-2') ORDER BY id`,
    );
    const table = formatRows(result, 'table');
    expect(table.split('\n')[0]).toMatch(/^id\s+version\s+skills$/);
    expect(table).toContain('(2 rows)');
    expect(formatRows(result, 'csv').split('\n')[1]).toMatch(/^posting-1,1,"\[""/);
    expect(JSON.parse(formatRows(result, 'json').split('\n')[0]!)).toMatchObject({ id: 'posting-1', version: 1 });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A local TCP forwarder: our own stand-in for "ClickHouse comes back". */
function tcpProxy(port: number, target: URL): Server {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 8123), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const done = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
  });
  server.listen(port, '127.0.0.1');
  const close = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  }) as typeof server.close;
  return server;
}
