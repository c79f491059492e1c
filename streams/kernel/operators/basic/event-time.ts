import { eventTimeProblem } from '../../record-checks.ts';
import { type StreamRecord, withValue } from '../../record.ts';
import type { Stage } from '../../stage.ts';
import { perRecordStage } from './record-function.ts';

/**
 * Takes a record's event time from its value (e.g. a parsed timestamp field); windows then use it. A time the
 * runtime cannot carry (record-checks.ts: not whole milliseconds, before 1970, from 2200) is a dead letter here.
 */
export function assignEventTime<T>(name: string, timeOf: (value: T, record: StreamRecord<T>) => number): Stage<T, T> {
  return perRecordStage<T, T>(name, (record, output) => {
    const eventTime = timeOf(record.value, record);
    const problem = eventTimeProblem(eventTime);
    if (problem) throw new Error(`event time ${problem}`);
    const timed = withValue(record, record.value);
    timed.eventTime = eventTime;
    output.push(timed);
  });
}
