import type { StreamRecord } from '../../record.ts';
import type { Stage } from '../../stage.ts';
import { perRecordStage } from './record-function.ts';

/** Keeps the records for which `keep` is true. */
export function filter<T>(name: string, keep: (value: T, record: StreamRecord<T>) => boolean): Stage<T, T> {
  return perRecordStage<T, T>(name, (record, output) => {
    if (keep(record.value, record)) output.push(record);
  });
}
