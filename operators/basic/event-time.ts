import { type StreamRecord, withValue } from '../../streams/record.ts';
import type { Stage } from '../../streams/stage.ts';
import { perRecordStage } from './record-function.ts';

/** Takes a record's event time from its value (e.g. a parsed timestamp field); windows then use it. */
export function assignEventTime<T>(name: string, timeOf: (value: T, record: StreamRecord<T>) => number): Stage<T, T> {
  return perRecordStage<T, T>(name, (record, output) => {
    const eventTime = timeOf(record.value, record);
    if (!Number.isFinite(eventTime)) throw new Error(`event time is not a valid time: ${eventTime}`);
    const timed = withValue(record, record.value);
    timed.eventTime = eventTime;
    output.push(timed);
  });
}
