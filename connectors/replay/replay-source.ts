import type { Source } from '../../streams/kernel/source.ts';
import { readOnceSource } from '../read-once-source.ts';
import type { ConsumedMessage } from '../../streams/kernel/transport/transport.ts';

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
  let sequence = 0;
  return readOnceSource(
    name,
    () => ordered,
    (batch) => {
      sequence += batch.length;
      return {
        positions: batch.map((m) => ({ topic: m.topic, partition: m.partition, offset: m.offset })),
        topic: ACK_TOPIC,
        nextOffset: sequence,
      };
    },
  );
}
