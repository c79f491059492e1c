import type { StreamRecord } from '../streams/record.ts';
import type { RejectRecord, Sink } from '../streams/sink.ts';

/** Writes every batch to all the given sinks; acknowledged once all of them have it. */
export function teeSink<T>(name: string, sinks: Sink<T>[]): Sink<T> {
  return {
    name,
    batchRecords: Math.max(1, ...sinks.map((s) => s.batchRecords ?? 1)),
    async write(records: StreamRecord<T>[], reject?: RejectRecord) {
      await Promise.all(sinks.map((s) => s.write(records, reject)));
    },
    async close() {
      await Promise.all(sinks.map((s) => s.close?.()));
    },
  };
}
