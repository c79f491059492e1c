import type { StreamRecord } from '../../streams/record.ts';
import type { Source, SourceBatch } from '../../streams/source.ts';
import type { ConsumedMessage } from '../transport.ts';

/** The one "partition" acknowledgements are tracked on: a replay reads in its own order and commits nothing. */
const ACK_TOPIC = 'replay';

/**
 * A pipeline source over messages already in replay order. Each record keeps its recorded position (topic,
 * partition, offset; for files, as `run --input` numbers them), so a definition can tell its topics apart, windows
 * keep one state per recorded partition as in a live run, and a dead letter or payload reference points at the
 * recorded record: a replay writes the same rows about a record as the live run did. Nothing is committed: a replay
 * starts over from its input every time.
 */
export function replaySource(name: string, ordered: AsyncIterable<ConsumedMessage[]>): Source<Buffer> {
  let reader: AsyncIterator<ConsumedMessage[]> | undefined;
  let sequence = 0;
  let done = false;
  return {
    name,
    async poll(): Promise<SourceBatch<Buffer>[]> {
      if (done) return [];
      reader ??= ordered[Symbol.asyncIterator]();
      const next = await reader.next();
      if (next.done) {
        done = true;
        return [];
      }
      const records: StreamRecord<Buffer>[] = next.value.map((m) => ({
        key: m.key,
        value: m.value,
        eventTime: m.timestamp,
        headers: m.headers ?? {},
        position: { topic: m.topic, partition: m.partition, offset: m.offset },
        raw: m.value,
      }));
      sequence += records.length;
      return [{ topic: ACK_TOPIC, partition: 0, records, nextOffset: sequence }];
    },
    async commit() {},
    async caughtUp() {
      return done;
    },
    onRevoked() {},
    async close() {
      await reader?.return?.();
    },
  };
}
