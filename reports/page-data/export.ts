/**
 * Page data for the report site: one warehouse connection (the embedded DuckDB file admits one process at a time),
 * one canonical JSON per page, each with a `meta` block saying when, from which warehouse and from which runs its data
 * was taken. The pages read these files with `FileAttachment("data/<page>.json").json()`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../../config/settings.ts';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { activeLearningPage } from './active-learning.ts';
import { pageJson } from './canonical.ts';
import { driftPage } from './drift.ts';
import { eventsPage } from './events.ts';
import { indexPage } from './index-page.ts';
import type { PageExport, PageMeta } from './page.ts';
import { pipelinesPage } from './pipelines.ts';
import { tradeOffsPage } from './trade-offs.ts';
import { warehouseReader } from '../../connectors/warehouse/warehouse-reader.ts';

export const PAGES: readonly PageExport[] = [
  indexPage,
  tradeOffsPage,
  driftPage,
  activeLearningPage,
  pipelinesPage,
  eventsPage,
];

export interface ExportOptions {
  /** The time stamped into every page's meta (default now). */
  now?: Date;
  log?: (line: string) => void;
}

/** Writes `<dir>/<page>.json` for every page; returns the files written. */
export async function exportPageData(
  settings: Pick<Settings, 'home' | 'clickhouseUrl' | 'clickhouseDatabase' | 'dataDir'>,
  dir: string,
  options: ExportOptions = {},
): Promise<string[]> {
  const warehouse = await openWarehouse(settings);
  try {
    // Tables a deployment has not written yet (e.g. no bench run) exist empty, so every page's queries run.
    await warehouse.ensureTables();
    const reader = warehouseReader(warehouse);
    const takenAt = (options.now ?? new Date()).toISOString();
    const location =
      warehouse.kind === 'clickhouse'
        ? `${warehouse.location} database ${settings.clickhouseDatabase}`
        : warehouse.location;
    mkdirSync(dir, { recursive: true });
    const files: string[] = [];
    for (const page of PAGES) {
      const started = Date.now();
      const { runs, data } = await page.export(reader, { dataDir: settings.dataDir });
      const meta: PageMeta = {
        page: page.name,
        taken_at: takenAt,
        warehouse: warehouse.kind,
        location,
        runs,
        tables: page.tables,
      };
      const file = join(dir, `${page.name}.json`);
      writeFileSync(file, pageJson({ meta, ...data }));
      files.push(file);
      options.log?.(`page data ${page.name}: ${Date.now() - started} ms`);
    }
    return files;
  } finally {
    await warehouse.close();
  }
}
