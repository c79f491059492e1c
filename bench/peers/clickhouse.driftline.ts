/**
 * normalize → enrich → ClickHouse through driftline's ClickHouse sink (`--root` picks the checkout): the rows are
 * made before the clock starts; the timed part maps each batch and writes it, one insert in flight, as the runtime
 * hands batches to a sink.
 */
import { resolve } from 'node:path';
import type { Row } from '../../connectors/warehouse/tables.ts';
import { arg, startTiming } from './child.ts';
import { prepareRow, rawRow, type ShapeName } from './clickhouse-rows.ts';

const root = resolve(arg('root', resolve(import.meta.dirname, '..', '..')));
const { clickhouseSink } = await import(`${root}/connectors/warehouse/clickhouse-sink.ts`);

const shape = arg('table') as ShapeName;
const rows = Number(arg('records'));
const batch = 10_000;
const raw = Array.from({ length: rows }, (_, i) => ({
  key: String(i),
  value: rawRow(shape, i),
  eventTime: i,
  headers: {},
  position: { topic: 'peers', partition: 0, offset: i },
}));
const sink = clickhouseSink(shape, (r: { value: Row }) => r.value, { url: arg('url'), database: arg('database') });
const done = startTiming();
for (let at = 0; at < rows; at += batch) {
  const records = raw.slice(at, at + batch).map((r) => ({ ...r, value: prepareRow(shape, r.value) }));
  await sink.write(records, () => {
    throw new Error('a row was rejected');
  });
}
done(rows);
await sink.close();
