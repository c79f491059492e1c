/**
 * One warehouse row, as a row mapper builds it and a warehouse sink writes it: column name to value. The tables
 * themselves (columns, types, keys) are connectors/warehouse/tables.ts; the mappers live with the output they map.
 */
export type Row = Record<string, unknown>;

/** Composite ids are joined with '/': `compositeId(topic, partition, offset, stage)`. */
export const compositeId = (...parts: (string | number)[]): string => parts.join('/');
