import avro from 'avsc';
import type { AvroType } from './avro-type.ts';

/** A generic keyed measurement (metrics, sensor readings, feature updates). */
export const EventSchema = {
  type: 'record',
  name: 'Event',
  namespace: 'driftline',
  fields: [
    { name: 'source', type: 'string' },
    { name: 'key', type: 'string' },
    { name: 'ts', type: 'long', doc: 'Epoch milliseconds.' },
    { name: 'value', type: 'double' },
    { name: 'values', type: { type: 'map', values: 'double' }, default: {} },
    { name: 'attributes', type: { type: 'map', values: 'string' }, default: {} },
  ],
} as const;

export type Event = AvroType<typeof EventSchema>;

export const EventType = avro.Type.forSchema(EventSchema as unknown as Parameters<typeof avro.Type.forSchema>[0]);
