/**
 * A bench run's rows to the JSON file and to the warehouse (ClickHouse when CLICKHOUSE_URL is set, else embedded
 * DuckDB).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Settings } from '../../config/settings.ts';
import type { Row, TableName } from '../../connectors/warehouse/tables.ts';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import type { StreamRecord } from '../../streams/kernel/record.ts';
import type { BenchResultRow, BenchRunRow } from './result-rows.ts';

export interface BenchFile {
  run: BenchRunRow;
  results: BenchResultRow[];
}

export function writeBenchFile(path: string, content: BenchFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(content, null, 2)}\n`);
}

export async function writeBenchWarehouse(
  settings: Pick<Settings, 'home' | 'clickhouseUrl' | 'clickhouseDatabase'>,
  content: BenchFile,
): Promise<string> {
  const warehouse = await openWarehouse(settings);
  try {
    const tables: TableName[] = ['bench_runs', 'bench_results'];
    await warehouse.ensureTables(tables);
    const write = async (table: TableName, rows: Row[]) => {
      const sink = warehouse.sink<Row>(table, (r) => r.value);
      const records: StreamRecord<Row>[] = rows.map((value, i) => ({
        key: String(value.id),
        value,
        eventTime: content.run.ended_at,
        headers: {},
        position: { topic: `bench:${content.run.run_id}`, partition: 0, offset: i },
      }));
      await sink.write(records);
      await sink.close?.();
    };
    await write('bench_runs', [content.run as unknown as Row]);
    await write('bench_results', content.results as unknown as Row[]);
    return `${warehouse.kind} ${warehouse.location}`;
  } finally {
    await warehouse.close();
  }
}
