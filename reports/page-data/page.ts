import type { TableName } from '../../connectors/warehouse/tables.ts';
import type { RunRef, WarehouseReader } from '../../connectors/warehouse/warehouse-reader.ts';

/** What one page's data export gives: its datasets and the runs they were taken from. */
export interface PageData {
  /** Runs whose rows the page shows (empty when it shows whole tables, e.g. bench results carry their own run). */
  runs: RunRef[];
  data: Record<string, unknown>;
}

/** One page of the site: a name (`<name>.md` reads `data/<name>.json`), the tables it reads, and its export. */
export interface PageExport {
  name: string;
  tables: readonly TableName[];
  export(reader: WarehouseReader, context: ExportContext): Promise<PageData>;
}

export interface ExportContext {
  /** The datasets directory (DRIFTLINE_DATA_DIR), for files the pipelines read beside the warehouse (NAB windows). */
  dataDir?: string;
}

/** When and where the page's data was taken: every page prints this. */
export interface PageMeta {
  page: string;
  taken_at: string;
  warehouse: 'clickhouse' | 'duckdb';
  location: string;
  runs: RunRef[];
  tables: readonly string[];
}
