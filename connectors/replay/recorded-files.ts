import type { ConsumedMessage, Message } from '../../streams/kernel/transport/transport.ts';
import { type TimeRange, inRange } from './time-range.ts';

/** The position topic `run --input` gives these files (see fileSource), so a replay's rows about a record match. */
export const filesTopic = (files: string[]) =>
  `files:${files[0] ?? 'none'}${files.length > 1 ? ` (+${files.length - 1})` : ''}`;

/**
 * Input files as a pipeline's `read()` turns them into messages (the bytes `produce` would publish), within a time
 * range. Each message's offset is its index in file order, as for `run --input`; it breaks ties between equal
 * event times.
 */
export async function* readRecordedFiles(
  read: (files: string[]) => AsyncIterable<Message[]>,
  files: string[],
  range: TimeRange,
): AsyncGenerator<ConsumedMessage[]> {
  const topic = filesTopic(files);
  let offset = 0;
  for await (const batch of read(files)) {
    const kept: ConsumedMessage[] = [];
    for (const m of batch) {
      const index = offset++;
      if (inRange(range, m.timestamp)) kept.push({ ...m, topic, partition: 0, offset: index });
    }
    if (kept.length > 0) yield kept;
  }
}
