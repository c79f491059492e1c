import avro from 'avsc';
import type { AvroType } from './avro-type.ts';

/** A model's output for one input record. */
export const PredictionSchema = {
  type: 'record',
  name: 'Prediction',
  namespace: 'driftline',
  fields: [
    { name: 'record_id', type: 'string' },
    { name: 'model_id', type: 'string' },
    { name: 'model_version', type: 'string' },
    { name: 'label', type: 'int' },
    { name: 'probabilities', type: { type: 'array', items: 'double' } },
    { name: 'confidence', type: 'double' },
    { name: 'latency_ms', type: 'double' },
    { name: 'predicted_at', type: 'long', doc: 'Epoch milliseconds.' },
  ],
} as const;

export type Prediction = AvroType<typeof PredictionSchema>;

export const PredictionType = avro.Type.forSchema(
  PredictionSchema as unknown as Parameters<typeof avro.Type.forSchema>[0],
);
