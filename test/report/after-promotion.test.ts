/**
 * The Drift page's headline SQL on real engines, in-memory DuckDB and ClickHouse 18.16 (the server the test setup
 * starts): A vs B on labelled postings after B's first promotion, each counted once with the B version in force at its
 * event time. Postings before the promotion, unlabelled ones, ones A never scored, stale B predictions of a version not
 * in force at the posting's time and a redelivered row (deduplicated by id: ClickHouse FINAL, DuckDB's upsert) must
 * all stay out.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  afterFirstPromotion,
  className,
  inForceCondition,
  type Promotion,
} from '../../reports/page-data/after-promotion.ts';
import type { Warehouse } from '../../connectors/warehouse/warehouse.ts';
import { warehouseReader, type WarehouseReader } from '../../connectors/warehouse/warehouse-reader.ts';

const PROMOTIONS: Promotion[] = [
  { version: 'v3', trigger_event_time: 199, in_force_from: 200 },
  { version: 'v2', trigger_event_time: 99, in_force_from: 100 },
];

// record, posted_at, truth (null: unlabelled), A's label and confidence (null: A never scored it), B's predictions
const POSTINGS: [string, number, number | null, [number, number] | null, [string, number, number][]][] = [
  ['r1', 50, 1, [0, 0.9], [['v1', 1, 0.6]]], // before the first promotion
  ['r2', 150, 1, [0, 0.8], [['v2', 1, 0.7]]], // A wrong, B right
  ['r3', 150, 0, [0, 0.9], [['v2', 0, 0.9]]], // both right
  ['r4', 250, 1, [1, 0.6], [['v3', 0, 0.6]]], // A right, B wrong
  ['r5', 250, 0, [1, 0.7], [['v3', 1, 0.8]]], // both wrong
  [
    'r6',
    250,
    1,
    [0, 0.95],
    [
      ['v2', 1, 0.5],
      ['v3', 1, 0.9],
    ],
  ], // A wrong, B right; v2's row is not the one in force
  ['r7', 160, null, [0, 0.9], [['v2', 1, 0.9]]], // unlabelled
  ['r8', 170, 1, null, [['v2', 1, 0.9]]], // A never scored it
  ['r9', 180, 0, [1, 0.9], [['v3', 0, 0.9]]], // scored by v3 before v3 was in force: not this run's prediction
];

const TABLES = {
  postings: [
    ['title', 'String'],
    ['company', 'String'],
    ['posted_at', 'Int64'],
  ],
  labels: [
    ['record_id', 'String'],
    ['label', 'Int32'],
    ['label_name', 'String'],
  ],
  predictions: [
    ['record_id', 'String'],
    ['model_id', 'String'],
    ['model_version', 'String'],
    ['label', 'Int32'],
    ['confidence', 'Float64'],
  ],
} as const;

/** The fixture's rows as `INSERT … VALUES` statements (every row with an id and a version, as the warehouse's). */
function inserts(): string[] {
  // r2's B prediction delivered twice: a separate insert, so ClickHouse holds it in two parts until merged.
  const redelivered = `INSERT INTO predictions VALUES ('r2/b/v2', 1, 'r2', 'postings-b', 'v2', 1, 0.7)`;
  const out: string[] = [];
  for (const [id, posted, truth, a, bs] of POSTINGS) {
    out.push(`INSERT INTO postings VALUES ('${id}', 1, 'Title ${id}', 'Company ${id}', ${posted})`);
    if (truth !== null) out.push(`INSERT INTO labels VALUES ('${id}', 1, '${id}', ${truth}, 'Role ${id}')`);
    if (a) out.push(`INSERT INTO predictions VALUES ('${id}/a', 1, '${id}', 'postings-a', 'v1', ${a[0]}, ${a[1]})`);
    for (const [version, label, confidence] of bs)
      out.push(
        `INSERT INTO predictions VALUES ('${id}/b/${version}', 1, '${id}', 'postings-b', ` +
          `'${version}', ${label}, ${confidence})`,
      );
  }
  return [...out, redelivered];
}

/** The report's reader over a bare connection: only `kind` and `query` are used. */
const readerOver = (kind: Warehouse['kind'], query: (sql: string) => Promise<Record<string, unknown>[]>) =>
  warehouseReader({ kind, query } as unknown as Warehouse);

const duckType = (t: string) =>
  t === 'String' ? 'VARCHAR' : t === 'Int64' ? 'BIGINT' : t === 'Int32' ? 'INTEGER' : 'DOUBLE';

async function duckdb(): Promise<{ reader: WarehouseReader; close: () => Promise<void> }> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  for (const [table, columns] of Object.entries(TABLES)) {
    await db.run(
      `CREATE TABLE ${table} (id VARCHAR PRIMARY KEY, version UBIGINT, ` +
        `${columns.map(([c, t]) => `${c} ${duckType(t)}`).join(', ')})`,
    );
  }
  for (const sql of inserts()) await db.run(sql.replace('INSERT INTO', 'INSERT OR REPLACE INTO'));
  return {
    reader: readerOver('duckdb', async (sql) => (await db.runAndReadAll(sql)).getRowObjectsJS()),
    close: async () => instance.closeSync(),
  };
}

/** ClickHouse 18.16 over HTTP, ReplacingMergeTree tables in a database of their own (queries read them FINAL). */
async function clickhouse(): Promise<{ reader: WarehouseReader; close: () => Promise<void> }> {
  const url = process.env.CLICKHOUSE_URL!;
  const database = `after_promotion_${Date.now().toString(36)}`;
  const send = async (sql: string, db = true) => {
    const response = await fetch(`${url}/?${db ? `database=${database}&` : ''}`, { method: 'POST', body: sql });
    const text = await response.text();
    if (!response.ok) throw new Error(`ClickHouse: ${text}\n${sql}`);
    return text;
  };
  await send(`CREATE DATABASE ${database}`, false);
  for (const [table, columns] of Object.entries(TABLES)) {
    await send(
      `CREATE TABLE ${table} (id String, version UInt64, ${columns.map(([c, t]) => `${c} ${t}`).join(', ')}) ` +
        `ENGINE = ReplacingMergeTree(version) ORDER BY id`,
    );
  }
  for (const sql of inserts()) await send(sql);
  return {
    reader: readerOver(
      'clickhouse',
      async (sql) => (JSON.parse(await send(`${sql} FORMAT JSON`)) as { data: Record<string, unknown>[] }).data,
    ),
    close: async () => void (await send(`DROP DATABASE ${database}`, false)),
  };
}

const models = { a: 'postings-a', aVersions: ['v1'], b: 'postings-b' };

describe.each([
  ['DuckDB', duckdb],
  ['ClickHouse', clickhouse],
] as const)('A vs B after B’s first promotion, on %s', (_, open) => {
  let reader: WarehouseReader;
  let close: () => Promise<void>;
  beforeAll(async () => ({ reader, close } = await open()));
  afterAll(() => close?.());

  it('counts each labelled posting after the promotion once, with the B version in force at its time', async () => {
    const result = await afterFirstPromotion(reader, models, PROMOTIONS);
    expect(result).not.toBeNull();
    expect(result!.first_promotion.version).toBe('v2');
    expect(result!.records).toBe(5);
    expect([result!.correct_a, result!.correct_b]).toEqual([2, 3]);
    expect(result!.accuracy_a).toBeCloseTo(0.4);
    expect(result!.accuracy_b).toBeCloseTo(0.6);
    expect(result!.outcomes).toEqual({ both_right: 1, a_wrong_b_right: 2, a_right_b_wrong: 1, both_wrong: 1 });
    expect(result!.by_version).toEqual([
      { version: 'v2', records: 2, correct: 2 },
      { version: 'v3', records: 3, correct: 1 },
    ]);
  });

  it('lists where A is wrong and B right, A’s most confident mistakes first, with titles and class names', async () => {
    const listed = (await afterFirstPromotion(reader, models, PROMOTIONS))!.a_fails_b_succeeds;
    expect(listed.map((e) => [e.record_id, e.b_version, e.a_confidence])).toEqual([
      ['r6', 'v3', 0.95],
      ['r2', 'v2', 0.8],
    ]);
    expect(listed[0]).toMatchObject({
      title: 'Title r6',
      truth: 'data science',
      role: 'Role r6',
      a_class: 'software engineering',
      b_class: 'data science',
      b_confidence: 0.9,
    });
  });

  it('has nothing to say without a promotion in event time', async () => {
    expect(await afterFirstPromotion(reader, models, [])).toBeNull();
    expect(className(0)).toBe('software engineering');
    expect(inForceCondition(reader, 'b', PROMOTIONS)).toMatch(
      new RegExp(
        "model_version = 'v2' AND .*posted_at >= 100 AND posted_at " +
          String.raw`< 200.* OR .*model_version = 'v3' AND .*posted_at >= 200\)`,
      ),
    );
  });
});
