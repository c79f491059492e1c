import type { ConsumedMessage } from '../../streams/kernel/transport/transport.ts';
import { SpilledRuns } from './spilled-runs.ts';

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The replay order: event time, then topic, partition and offset (file order for files). Total, so replays repeat. */
export const byEventTime = (a: ConsumedMessage, b: ConsumedMessage) =>
  a.timestamp - b.timestamp || byName(a.topic, b.topic) || a.partition - b.partition || a.offset - b.offset;

export interface EventTimeOrderOptions {
  /** Where sorted runs go when the input does not fit in `maxBufferedBytes`; deleted afterwards. */
  spillDir: string;
  /** Bytes of messages (values, keys, headers) held in memory before a sorted run is spilled. Default 64 MB. */
  maxBufferedBytes?: number;
  /** Messages per yielded batch. Default 2,000. */
  batchRecords?: number;
}

const sizeOf = (m: ConsumedMessage) => {
  let n = 64 + m.value.length + (m.key?.length ?? 0);
  for (const name in m.headers) n += name.length + m.headers[name]!.length;
  return n;
};

/**
 * The input (all of it, in any interleaving) in event-time order: an external merge sort. Input that fits in
 * `maxBufferedBytes` is sorted in memory; beyond that, each full buffer is sorted and spilled as a run, and the runs
 * are merged. Memory stays near `maxBufferedBytes` plus about 1 MB per spilled run; nothing is yielded before the
 * whole input has been read, since its last record may be the earliest.
 */
export async function* inEventTimeOrder(
  input: AsyncIterable<ConsumedMessage[]>,
  options: EventTimeOrderOptions,
): AsyncGenerator<ConsumedMessage[]> {
  const maxBytes = options.maxBufferedBytes ?? 64 * 1024 * 1024;
  const batchRecords = options.batchRecords ?? 2_000;
  let buffer: ConsumedMessage[] = [];
  let bytes = 0;
  const runs = new SpilledRuns(options.spillDir, byEventTime);
  try {
    for await (const batch of input) {
      for (const m of batch) {
        buffer.push(m);
        bytes += sizeOf(m);
      }
      if (bytes >= maxBytes) {
        await runs.spill(buffer.sort(byEventTime));
        buffer = [];
        bytes = 0;
      }
    }
    buffer.sort(byEventTime);
    if (runs.count === 0) {
      for (let i = 0; i < buffer.length; i += batchRecords) yield buffer.slice(i, i + batchRecords);
      return;
    }
    if (buffer.length > 0) await runs.spill(buffer);
    buffer = [];
    yield* runs.merged(batchRecords);
  } finally {
    await runs.close();
  }
}
