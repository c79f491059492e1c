import type { StreamRecord } from '../streams/kernel/record.ts';
import { DEFAULT_SINK_MAX_WAIT_MS, type RejectRecord, type Sink } from '../streams/kernel/sink.ts';

/** Writes every batch to all the given sinks; acknowledged once all of them have it. */
export function teeSink<T>(name: string, sinks: Sink<T>[]): Sink<T> {
  return {
    name,
    batchRecords: Math.max(1, ...sinks.map((s) => s.batchRecords ?? 1)),
    // The most impatient part sets the wait: a warehouse part's DRIFTLINE_WAREHOUSE_FLUSH_MS holds for the whole tee.
    maxWaitMs: Math.min(...sinks.map((s) => s.maxWaitMs ?? DEFAULT_SINK_MAX_WAIT_MS)),
    async write(records: StreamRecord<T>[], reject?: RejectRecord) {
      await Promise.all(sinks.map((s) => s.write(records, reject)));
    },
    async close() {
      await Promise.all(sinks.map((s) => s.close?.()));
    },
  };
}
