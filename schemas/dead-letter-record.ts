import avro from 'avsc';
import type { AvroType } from './avro-type.ts';

/** A record a pipeline stage could not process, with enough context to replay it. */
export const DeadLetterRecordSchema = {
  type: 'record',
  name: 'DeadLetterRecord',
  namespace: 'driftline',
  fields: [
    { name: 'stage', type: 'string', doc: 'Name of the stage that failed.' },
    { name: 'error', type: 'string' },
    { name: 'topic', type: 'string' },
    { name: 'partition', type: 'int' },
    { name: 'offset', type: 'long' },
    { name: 'key', type: ['null', 'string'], default: null },
    { name: 'original', type: 'bytes', doc: 'The original message value, byte for byte.' },
    { name: 'event_time', type: 'long', doc: 'Epoch milliseconds.' },
    { name: 'failed_at', type: 'long', doc: 'Epoch milliseconds.' },
  ],
} as const;

export type DeadLetterRecord = AvroType<typeof DeadLetterRecordSchema>;

export const DeadLetterRecordType = avro.Type.forSchema(
  DeadLetterRecordSchema as unknown as Parameters<typeof avro.Type.forSchema>[0],
);
