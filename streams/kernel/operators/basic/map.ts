import { type StreamRecord, withValue } from '../../record.ts';
import type { Stage } from '../../stage.ts';
import { perRecordStage } from './record-function.ts';

/** Transforms each value; key, event time, headers and source position travel along. */
export function map<I, O>(name: string, fn: (value: I, record: StreamRecord<I>) => O): Stage<I, O> {
  return perRecordStage<I, O>(name, (record, output) => {
    output.push(withValue(record, fn(record.value, record)));
  });
}
