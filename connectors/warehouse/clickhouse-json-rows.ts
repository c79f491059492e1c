/**
 * A batch of records as ClickHouse JSONEachRow lines: `toRow`, the client-side check, then one `JSON.stringify` per
 * row, as the raw client does. ClickHouse 18.16 reads no compact JSON format (JSONCompactEachRow came later); the
 * profile put the sink's extra cost not in stringify but around it: a Buffer copy of each body and the full
 * garbage collections that external memory brings (see ClickHouseInserter.insertOnce), and the row check.
 */
import type { StreamRecord } from '../../streams/kernel/record.ts';
import type { RejectedRow } from './rejected.ts';
import type { Row } from './tables.ts';

export interface JsonRows<T> {
  /** One JSON object per accepted row (JSON never holds a raw newline, so these join into a JSONEachRow body). */
  lines: string[];
  /** The index in the batch of each line's record. */
  lineRecord: number[];
  /** Each line's row, for the rejection report should ClickHouse refuse it. */
  rows: Row[];
  /** Rows toRow, the check or stringify refused. */
  rejected: RejectedRow<T>[];
}

export function encodeJsonRows<T>(
  records: StreamRecord<T>[],
  toRow: (record: StreamRecord<T>) => Row,
  validate: ((row: Row) => string | undefined) | undefined,
): JsonRows<T> {
  const out: JsonRows<T> = { lines: [], lineRecord: [], rows: [], rejected: [] };
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    let row: Row | undefined;
    try {
      row = toRow(record);
      const problem = validate?.(row);
      if (problem) {
        out.rejected.push({ record, row, reason: problem });
        continue;
      }
      out.lines.push(JSON.stringify(row));
      out.rows.push(row);
      out.lineRecord.push(i);
    } catch (error) {
      out.rejected.push({ record, row, reason: `${row ? 'serialise' : 'toRow'}: ${(error as Error).message}` });
    }
  }
  return out;
}
