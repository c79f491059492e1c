import { type StreamRecord, withValue } from '../../record.ts';
import type { Stage } from '../../stage.ts';
import { perRecordStage } from './record-function.ts';

/** Turns each value into zero or more values, each inheriting the input record's metadata. */
export function flatMap<I, O>(name: string, fn: (value: I, record: StreamRecord<I>) => Iterable<O>): Stage<I, O> {
  return perRecordStage<I, O>(name, (record, output) => {
    for (const value of fn(record.value, record)) output.push(withValue(record, value));
  });
}
