/**
 * The two ClickHouse row shapes of the warehouse benches (warehouse.bench.ts and the peer bench): postings (~500 B
 * of JSON, long text) and events (~145 B, numbers), the extremes of what pipelines write; and the per-row
 * "normalize → enrich" step the peer bench runs before writing, the same in every contender.
 */
import { postingRow } from '../../connectors/warehouse/sample-rows.ts';
import type { Row } from '../../connectors/warehouse/tables.ts';

export type ShapeName = 'postings' | 'events';

export const eventRow = (i: number): Row => ({
  id: `nab/series-${i % 50}/${1_400_000_000_000 + i}`,
  version: 0,
  source: 'nab',
  key: `series-${i % 50}`,
  ts: 1_400_000_000_000 + i * 300_000,
  value: Math.sin(i) * 100,
  attributes: '{}',
});

export const ROW_SHAPES: Record<ShapeName, (i: number) => Row> = { postings: postingRow, events: eventRow };

/** A raw row as a source would hand it over: padded, mixed-case text for the normalize step to clean. */
export function rawRow(shape: ShapeName, i: number): Row {
  const row = ROW_SHAPES[shape](i);
  return shape === 'postings' ? { ...row, title: `  ${row.title} ` } : { ...row, key: String(row.key).toUpperCase() };
}

/** normalize → enrich: trims and lower-cases the text, then derives a field (the row's version from its id). */
export function prepareRow(shape: ShapeName, row: Row): Row {
  if (shape === 'postings') {
    const title = (row.title as string).trim();
    return { ...row, title, skills: (row.skills as string[]).map((s) => s.toLowerCase()), version: title.length };
  }
  return { ...row, key: (row.key as string).toLowerCase(), version: (row.id as string).length };
}
