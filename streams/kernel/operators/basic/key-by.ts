import { keyProblem } from '../../record-checks.ts';
import { type StreamRecord, withValue } from '../../record.ts';
import type { Stage } from '../../stage.ts';
import { perRecordStage } from './record-function.ts';

/**
 * Sets the record key that windows and sinks group by. State stays per source partition, so re-keying does not
 * move records between workers; key before producing to Kafka when records must meet on one partition. A key the
 * runtime cannot carry (record-checks.ts: a lone surrogate, over 1,024 characters) is a dead letter here.
 */
export function keyBy<T>(name: string, keyOf: (value: T, record: StreamRecord<T>) => string): Stage<T, T> {
  return perRecordStage<T, T>(name, (record, output) => {
    const key = keyOf(record.value, record);
    const problem = keyProblem(key);
    if (problem) throw new Error(problem);
    const keyed = withValue(record, record.value);
    keyed.key = key;
    output.push(keyed);
  });
}
