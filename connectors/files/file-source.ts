import type { StreamRecord } from '../../streams/record.ts';
import type { Source, SourceBatch } from '../../streams/source.ts';
import type { Message } from '../transport.ts';

/**
 * Reads input files directly as a pipeline source (`driftline run --input`), yielding the same messages
 * `driftline produce` would publish, so a pipeline sees identical records either way. Positions name the file
 * (topic = path, offset = message index), which is what a dead letter from a file points back to.
 */
export function fileSource(files: string[], read: (file: string) => AsyncIterable<Message[]>): Source<Buffer> {
  let fileIndex = 0;
  let reader: AsyncIterator<Message[]> | undefined;
  let offset = 0;
  let done = files.length === 0;
  return {
    name: 'source:files',
    async poll(): Promise<SourceBatch<Buffer>[]> {
      while (!done) {
        const file = files[fileIndex]!;
        reader ??= read(file)[Symbol.asyncIterator]();
        const next = await reader.next();
        if (next.done) {
          reader = undefined;
          offset = 0;
          done = ++fileIndex >= files.length;
          continue;
        }
        const records: StreamRecord<Buffer>[] = next.value.map((m) => ({
          key: m.key,
          value: m.value,
          eventTime: m.timestamp,
          headers: m.headers ?? {},
          position: { topic: file, partition: 0, offset: offset++ },
          raw: m.value,
        }));
        return [{ topic: file, partition: 0, records, nextOffset: offset }];
      }
      return [];
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
