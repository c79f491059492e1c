import type { Source } from '../../streams/kernel/source.ts';
import { readOnceSource } from '../read-once-source.ts';
import type { Message } from '../../streams/kernel/transport/transport.ts';

/**
 * Reads input files directly as a pipeline source (`driftline run --input`), yielding the same messages
 * `driftline produce` would publish, so a pipeline sees identical records either way. Positions are
 * `files:<first file>` partition 0 with the message index as offset, which is what a dead letter points back to.
 */
export function fileSource(files: string[], read: (files: string[]) => AsyncIterable<Message[]>): Source<Buffer> {
  const topic = `files:${files[0] ?? 'none'}${files.length > 1 ? ` (+${files.length - 1})` : ''}`;
  let offset = 0;
  return readOnceSource(
    'source:files',
    () => read(files),
    (batch) => {
      const positions = batch.map(() => ({ topic, partition: 0, offset: offset++ }));
      return { positions, topic, nextOffset: offset };
    },
    files.length === 0,
  );
}
