/** normalize → enrich → ClickHouse through the raw `@clickhouse/client` (JSONEachRow), as clickhouse.driftline.ts. */
import { createClient } from '@clickhouse/client';
import { arg, startTiming } from './child.ts';
import { prepareRow, rawRow, type ShapeName } from './clickhouse-rows.ts';

const shape = arg('table') as ShapeName;
const rows = Number(arg('records'));
const batch = 10_000;
const raw = Array.from({ length: rows }, (_, i) => rawRow(shape, i));
const client = createClient({ url: arg('url'), database: arg('database') });
const done = startTiming();
for (let at = 0; at < rows; at += batch) {
  const values = raw.slice(at, at + batch).map((r) => prepareRow(shape, r));
  await client.insert({ table: shape, values, format: 'JSONEachRow' });
}
done(rows);
await client.close();
