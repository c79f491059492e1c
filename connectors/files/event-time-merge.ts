import { MinHeap } from '../replay/min-heap.ts';
import type { Message } from '../../streams/kernel/transport/transport.ts';

/** One input's current batch and where the merge is in it. */
interface Head {
  reader: AsyncIterator<Message[]>;
  messages: Message[];
  index: number;
  /** The input's place in the list: equal event times go in input order, so the merge is repeatable. */
  order: number;
}

const timeAt = (head: Head) => head.messages[head.index]!.timestamp;

/** Moves to the input's next non-empty batch; false at its end. */
async function refill(head: Head): Promise<boolean> {
  for (;;) {
    const next = await head.reader.next();
    if (next.done) return false;
    if (next.value.length === 0) continue;
    head.messages = next.value;
    head.index = 0;
    return true;
  }
}

/**
 * Several inputs, each in event-time order (a NAB file is), as one sequence in event-time order: a k-way merge
 * holding one batch per input. Read one after the other instead, each file would start earlier than the previous
 * one ended and most of it would arrive after its windows closed. A record out of order within its own input keeps
 * its place there: the merge never looks ahead, so such a record can still be late.
 */
export async function* mergeByEventTime(
  inputs: AsyncIterable<Message[]>[],
  batchRecords = 5_000,
): AsyncGenerator<Message[]> {
  const heap = new MinHeap<Head>((a, b) => timeAt(a) - timeAt(b) || a.order - b.order);
  const readers = inputs.map((input) => input[Symbol.asyncIterator]());
  try {
    for (let order = 0; order < readers.length; order++) {
      const head: Head = { reader: readers[order]!, messages: [], index: 0, order };
      if (await refill(head)) heap.push(head);
    }
    let out: Message[] = [];
    while (heap.size > 0) {
      const head = heap.peek()!;
      out.push(head.messages[head.index]!);
      head.index += 1;
      if (head.index < head.messages.length || (await refill(head))) heap.updateTop();
      else heap.pop();
      if (out.length >= batchRecords) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } finally {
    await Promise.all(readers.map((reader) => reader.return?.()));
  }
}
