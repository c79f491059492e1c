import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { postingRow, rowRecords } from './sample-rows.ts';
import type { Row, TableName } from './tables.ts';
import { openWarehouse, type Warehouse } from './warehouse.ts';
import { activeLearningPage } from '../../reports/page-data/active-learning.ts';
import { clickhouseStrings, sqlString } from './sql-string.ts';
import { warehouseReader } from './warehouse-reader.ts';

/** Scraped record ids as they come: a backslash, a quote, both, and sequences an escape parser would eat. */
const IDS = ['hn:a\\b', "hn:it's", "hn:x\\'y", "hn:\\\\''\\", 'hn:\\n\\t\\0', 'hn:end\\'];

describe('sqlString and clickhouseStrings', () => {
  it('writes standard literals and doubles backslashes only inside literals for ClickHouse', () => {
    expect(sqlString("x\\'y")).toBe("'x\\''y'");
    const sql = `SELECT "a\\b", \`c\\d\` FROM t WHERE id = ${sqlString("x\\'y")} -- it's \\ here\n AND k = '\\'`;
    expect(clickhouseStrings(sql)).toBe(
      `SELECT "a\\b", \`c\\d\` FROM t WHERE id = 'x\\\\''y' -- it's \\ here\n AND k = '\\\\'`,
    );
  });
});

const CLICKHOUSE_URL = inject('CLICKHOUSE_URL');
const DB = `driftline_sqlstr_${process.pid}_${Date.now() % 100_000}`;
const home = mkdtempSync(join(tmpdir(), 'driftline-sql-string-'));
const TABLES: TableName[] = [
  'postings',
  'label_queue',
  'labels',
  'pseudo_label_windows',
  'training_runs',
  'pipeline_metrics',
  'pipeline_runs',
];

afterAll(async () => {
  const admin = createClient({ url: CLICKHOUSE_URL });
  await admin.command({ query: `DROP DATABASE IF EXISTS ${DB}` });
  await admin.close();
  rmSync(home, { recursive: true, force: true });
});

function queued(id: string, n: number): Row {
  return {
    id: `${id}/postings-a`,
    version: 1,
    record_id: id,
    pipeline: 'postings',
    model_id: 'postings-a',
    model_version: 'v1',
    window_start: 0,
    window_end: 1_000,
    method: 'margin',
    score: 0.9 - n / 100,
    top_probability: 0.55,
    predicted_label: 1,
    reason: 'margin 0.1',
    payload_ref: `postings/${id}`,
    queued_at: 5,
  };
}

async function write(warehouse: Warehouse, table: TableName, rows: Row[]) {
  const sink = warehouse.sink<Row>(table, (r) => r.value);
  await sink.write(rowRecords(rows, table));
  await sink.close?.();
}

for (const kind of ['duckdb', 'clickhouse'] as const) {
  describe(`record ids with \\ and ' through a real ${kind}`, () => {
    let warehouse: Warehouse;
    beforeAll(async () => {
      warehouse = await openWarehouse(
        kind === 'duckdb' ? { home } : { home, clickhouseUrl: CLICKHOUSE_URL, clickhouseDatabase: DB },
      );
      await warehouse.ensureTables(TABLES);
    });
    afterAll(() => warehouse.close());

    it('a literal reads back as the string it was made from', async () => {
      const rows = await warehouseReader(warehouse).rows(
        `SELECT ${IDS.map((id, i) => `${sqlString(id)} AS v${i}`).join(', ')}`,
      );
      expect(Object.values(rows[0]!)).toEqual(IDS);
    });

    it('the active-learning page lists queued postings with those ids, with their titles', async () => {
      await write(
        warehouse,
        'postings',
        IDS.map((id, n) => ({ ...postingRow(n), id, title: `title of ${id}` })),
      );
      await write(warehouse, 'label_queue', IDS.map(queued));
      const page = await activeLearningPage.export(warehouseReader(warehouse), {});
      // The heading is the title when the text names no role (reports/page-data/posting-heading.ts).
      const items = page.data.queue_items as { record_id: string; heading: string | null }[];
      expect(items.map((q) => [q.record_id, q.heading])).toEqual(IDS.map((id) => [id, `title of ${id}`]));
    });
  });
}
