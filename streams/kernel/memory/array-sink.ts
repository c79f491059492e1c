import type { StreamRecord } from '../record.ts';
import type { Sink } from '../sink.ts';

/** Keeps every written record in memory: for tests, notebooks and small in-process pipelines. */
export class ArraySink<T> implements Sink<T> {
  readonly records: StreamRecord<T>[] = [];
  constructor(
    readonly name = 'array',
    readonly batchRecords?: number,
  ) {}

  async write(records: StreamRecord<T>[]): Promise<void> {
    for (const r of records) this.records.push(r);
  }

  get values(): T[] {
    return this.records.map((r) => r.value);
  }
}
