import type { StreamRecord } from '../../streams/kernel/record.ts';
import type { RejectRecord, Sink } from '../../streams/kernel/sink.ts';
import { type Row, type TableDef, type TableName, tableDef } from '../warehouse/tables.ts';
import type { Warehouse, WarehouseSinkOptions } from '../warehouse/warehouse.ts';
import type { SinkFigures } from './sink-figures.ts';

/** Tables whose rows SinkFigures reads (the others are only counted). */
const READ_ROWS = new Set(['predictions', 'drift_alerts', 'pseudo_label_windows']);

/**
 * The same warehouse, with every sink reporting what it wrote to `figures`: rows stored and rejected, insert
 * attempts that failed (ClickHouse retries), and the rows of the tables that carry ML figures.
 */
export function observedWarehouse(warehouse: Warehouse, figures: SinkFigures): Warehouse {
  return {
    kind: warehouse.kind,
    location: warehouse.location,
    ensureTables: (tables) => warehouse.ensureTables(tables),
    query: (sql) => warehouse.query(sql),
    close: () => warehouse.close(),
    sink<T>(table: TableName | TableDef, toRow: (r: StreamRecord<T>) => Row, options: WarehouseSinkOptions<T> = {}) {
      const name = tableDef(table).name;
      const rowOf = new WeakMap<StreamRecord<T>, Row>();
      const keepRows = READ_ROWS.has(name);
      const remember = (record: StreamRecord<T>) => {
        const row = toRow(record);
        if (keepRows) rowOf.set(record, row);
        return row;
      };
      const onRetry = options.retry?.onRetry;
      const retry = {
        ...options.retry,
        onRetry: (error: Error, attempt: number, delayMs: number) => {
          figures.insertError(name);
          onRetry?.(error, attempt, delayMs);
        },
      };
      const inner = warehouse.sink<T>(table, remember, { ...options, retry });
      const rowsOf = (records: StreamRecord<T>[]) =>
        records.map((r) => rowOf.get(r)).filter((row) => row !== undefined);
      return observedSink(inner, name, figures, rowsOf);
    },
  };
}

function observedSink<T>(
  inner: Sink<T>,
  table: string,
  figures: SinkFigures,
  rowsOf: (records: StreamRecord<T>[]) => Row[],
): Sink<T> {
  return {
    name: inner.name,
    batchRecords: inner.batchRecords,
    maxWaitMs: inner.maxWaitMs,
    concurrency: inner.concurrency,
    close: inner.close?.bind(inner),
    async write(records, reject) {
      const rejected = new Set<StreamRecord<unknown>>();
      const counted: RejectRecord = (record, reason) => {
        rejected.add(record);
        reject?.(record, reason);
      };
      try {
        await inner.write(records, reject ? counted : undefined);
      } catch (error) {
        figures.insertError(table);
        throw error;
      }
      const stored = rejected.size === 0 ? records : records.filter((r) => !rejected.has(r));
      figures.rejectedRows(table, rejected.size);
      figures.written(table, stored.length, rowsOf(stored));
    },
  };
}
