/**
 * The report's page data is the same whichever warehouse it came from: the same input run through the same pipelines
 * on Kafka + ClickHouse and on the embedded log + DuckDB gives equal page data once run ids, the wall clock and the
 * names of the services are left out (reports/page-data/comparable.ts lists them).
 *
 * Model B's fine-tuning is switched off (`train: false`) on both sides: a fine-tune runs beside the stream and is
 * hot-swapped whenever it finishes, so which postings the new B scores depends on timing, not on the input. Both
 * pipelines read their topics on each side (produce, then run --until-idle).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { comparablePageData } from '../../reports/page-data/comparable.ts';
import { exportPageData, PAGES } from '../../reports/page-data/export.ts';
import { prepareWarehouse, type PreparedWarehouse, XSS_TITLE } from './prepare-warehouse.ts';

type PageData = Record<string, unknown> & { meta: { warehouse: string; runs: { pipeline: string; run_id: string }[] } };
const pages: Record<'embedded' | 'clickhouse', Record<string, PageData>> = { embedded: {}, clickhouse: {} };
const prepared: Partial<Record<'embedded' | 'clickhouse', PreparedWarehouse>> = {};

async function exportFrom(side: 'embedded' | 'clickhouse', warehouse: PreparedWarehouse) {
  const dir = mkdtempSync(join(tmpdir(), `driftline-page-data-${side}-`));
  await exportPageData(loadSettings(warehouse.env), dir);
  for (const page of PAGES) pages[side][page.name] = JSON.parse(readFileSync(join(dir, `${page.name}.json`), 'utf8'));
}

beforeAll(async () => {
  const same = { postingsOptions: { train: false }, postingsVia: 'topic' } as const;
  prepared.embedded = await prepareWarehouse({ name: 'embedded', services: 'embedded', ...same });
  prepared.clickhouse = await prepareWarehouse({
    name: 'clickhouse',
    services: 'kafka-clickhouse',
    modelsFrom: prepared.embedded,
    ...same,
  });
  await exportFrom('embedded', prepared.embedded);
  await exportFrom('clickhouse', prepared.clickhouse);
}, 600_000);

describe('page data: Kafka + ClickHouse vs embedded log + DuckDB, same input', () => {
  it('each side says where its data came from', () => {
    for (const page of PAGES) {
      expect(pages.embedded[page.name]!.meta.warehouse).toBe('duckdb');
      expect(pages.clickhouse[page.name]!.meta.warehouse).toBe('clickhouse');
    }
    const runs = (side: 'embedded' | 'clickhouse') => pages[side].index!.meta.runs.map((r) => r.pipeline).sort();
    expect(runs('embedded')).toEqual(['events', 'postings']);
    expect(runs('clickhouse')).toEqual(['events', 'postings']);
  });

  it('has something on the pages to compare', () => {
    const index = pages.clickhouse.index as unknown as {
      tables: { table: string; rows: number }[];
      latest_postings: { title: string }[];
    };
    const rows = Object.fromEntries(index.tables.map((t) => [t.table, t.rows]));
    for (const table of [
      'postings',
      'predictions',
      'labels',
      'model_comparison',
      'drift_metrics',
      'events',
      'anomaly_scores',
    ])
      expect(rows[table], table).toBeGreaterThan(0);
    expect(index.latest_postings[0]!.title).toBe(XSS_TITLE);
    expect((pages.clickhouse.events as unknown as { series: unknown[] }).series.length).toBeGreaterThan(100);
  });

  for (const page of PAGES) {
    it(`${page.name}: equal once run ids, wall clock and service names are left out`, () => {
      const prefix = (side: 'embedded' | 'clickhouse') => prepared[side]!.env.DRIFTLINE_TOPIC_PREFIX!;
      const embedded = comparablePageData(pages.embedded[page.name], prefix('embedded'));
      const clickhouse = comparablePageData(pages.clickhouse[page.name], prefix('clickhouse'));
      expect(clickhouse).toEqual(embedded);
    });
  }
});
