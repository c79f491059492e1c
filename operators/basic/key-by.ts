import { type StreamRecord, withValue } from '../../streams/record.ts';
import type { Stage } from '../../streams/stage.ts';
import { perRecordStage } from './record-function.ts';

/**
 * Sets the record key that windows and sinks group by. State stays per source partition, so re-keying does not
 * move records between workers; key before producing to Kafka when records must meet on one partition.
 */
export function keyBy<T>(name: string, keyOf: (value: T, record: StreamRecord<T>) => string): Stage<T, T> {
  return perRecordStage<T, T>(name, (record, output) => {
    const keyed = withValue(record, record.value);
    keyed.key = keyOf(record.value, record);
    output.push(keyed);
  });
}
