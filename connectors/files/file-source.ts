import type { StreamRecord } from '../../streams/record.ts';
import type { Source, SourceBatch } from '../../streams/source.ts';
import type { Message } from '../transport.ts';

/**
 * Reads input files directly as a pipeline source (`driftline run --input`), yielding the same messages
 * `driftline produce` would publish, so a pipeline sees identical records either way. Positions are
 * `files:<first file>` partition 0 with the message index as offset, which is what a dead letter points back to.
 */
export function fileSource(files: string[], read: (files: string[]) => AsyncIterable<Message[]>): Source<Buffer> {
  const topic = `files:${files[0] ?? 'none'}${files.length > 1 ? ` (+${files.length - 1})` : ''}`;
  let reader: AsyncIterator<Message[]> | undefined;
  let offset = 0;
  let done = files.length === 0;
  return {
    name: 'source:files',
    async poll(): Promise<SourceBatch<Buffer>[]> {
      if (done) return [];
      reader ??= read(files)[Symbol.asyncIterator]();
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
        position: { topic, partition: 0, offset: offset++ },
        raw: m.value,
      }));
      return [{ topic, partition: 0, records, nextOffset: offset }];
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
