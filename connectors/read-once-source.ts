import type { Message } from '../streams/kernel/transport/transport.ts';
import type { StreamRecord } from '../streams/kernel/record.ts';
import type { Source, SourceBatch } from '../streams/kernel/source.ts';

/**
 * A source that reads an async sequence of message batches once, to its end (files, a sorted replay): nothing to
 * commit, caught up once the sequence is exhausted. `place` gives each record's position and the batch's
 * acknowledgement coordinates.
 */
export function readOnceSource<M extends Message>(
  name: string,
  messages: () => AsyncIterable<M[]>,
  place: (batch: M[]) => { positions: StreamRecord<Buffer>['position'][]; topic: string; nextOffset: number },
  empty = false,
): Source<Buffer> {
  let reader: AsyncIterator<M[]> | undefined;
  let done = empty;
  return {
    name,
    async poll(): Promise<SourceBatch<Buffer>[]> {
      if (done) return [];
      reader ??= messages()[Symbol.asyncIterator]();
      const next = await reader.next();
      if (next.done) {
        done = true;
        return [];
      }
      const { positions, topic, nextOffset } = place(next.value);
      const records: StreamRecord<Buffer>[] = next.value.map((m, i) => ({
        key: m.key,
        value: m.value,
        eventTime: m.timestamp,
        headers: m.headers ?? {},
        position: positions[i]!,
        raw: m.value,
      }));
      return [{ topic, partition: 0, records, nextOffset }];
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
