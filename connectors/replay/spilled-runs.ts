import { rmSync } from 'node:fs';
import { EmbeddedLogTransport } from '../embedded-log/embedded-log.ts';
import type { ConsumedMessage, Consumer, Message, Producer } from '../../streams/kernel/transport/transport.ts';
import { MinHeap } from './min-heap.ts';

/** Where a spilled copy keeps its place in the input ([topic, partition, offset]); removed when read back. */
const POSITION = 'replay.position';
const READ_CHUNK_BYTES = 1 << 20;

const toSpilled = (m: ConsumedMessage): Message => ({
  key: m.key,
  value: m.value,
  timestamp: m.timestamp,
  headers: { ...m.headers, [POSITION]: JSON.stringify([m.topic, m.partition, m.offset]) },
});

function fromSpilled(m: ConsumedMessage): ConsumedMessage {
  const { [POSITION]: position, ...headers } = m.headers ?? {};
  const [topic, partition, offset] = JSON.parse(position!) as [string, number, number];
  return { key: m.key, value: m.value, timestamp: m.timestamp, headers, topic, partition, offset };
}

/** Reads one run back, a batch at a time. */
class RunCursor {
  head!: ConsumedMessage;
  private batch: ConsumedMessage[] = [];
  private next = 0;
  constructor(private readonly consumer: Consumer) {}

  /** Moves `head` to the run's next message; false at the end of the run. */
  async advance(): Promise<boolean> {
    while (this.next >= this.batch.length) {
      const batches = await this.consumer.poll(50);
      if (batches.length === 0 && (await this.consumer.caughtUp())) return false;
      this.batch = batches.flatMap((b) => b.messages);
      this.next = 0;
    }
    this.head = fromSpilled(this.batch[this.next++]!);
    return true;
  }
}

/**
 * Sorted runs on disk, merged back into one sorted stream: the external sort behind a replay larger than memory.
 * Each run is a one-partition topic of an embedded log in `dir` (deleted on close); the merge holds one read chunk
 * (1 MB) and one batch per run.
 */
export class SpilledRuns {
  private log?: EmbeddedLogTransport;
  private producer?: Producer;
  private readonly runs: string[] = [];

  constructor(
    private readonly dir: string,
    /** The order each run is sorted in: the merge keeps it. */
    private readonly compare: (a: ConsumedMessage, b: ConsumedMessage) => number,
  ) {}

  get count(): number {
    return this.runs.length;
  }

  /** Writes one run; `sorted` must already be in `compare` order. */
  async spill(sorted: ConsumedMessage[]): Promise<void> {
    if (!this.log) {
      rmSync(this.dir, { recursive: true, force: true }); // runs left by an interrupted replay under the same id
      this.log = new EmbeddedLogTransport({
        dir: this.dir,
        readChunkBytes: READ_CHUNK_BYTES,
        maxBatchBytes: READ_CHUNK_BYTES,
      });
    }
    this.producer ??= await this.log.producer();
    const topic = `run-${this.runs.length}`;
    await this.log.ensureTopic(topic, 1);
    for (let i = 0; i < sorted.length; i += 5_000)
      await this.producer.send(topic, sorted.slice(i, i + 5_000).map(toSpilled));
    this.runs.push(topic);
  }

  /** Every spilled message, in `compare` order, in batches of up to `batchRecords`. */
  async *merged(batchRecords: number): AsyncGenerator<ConsumedMessage[]> {
    const log = this.log;
    if (!log) return;
    const heap = new MinHeap<RunCursor>((a, b) => this.compare(a.head, b.head));
    for (const topic of this.runs) {
      const cursor = new RunCursor(await log.consumer({ group: 'merge', topics: [topic], maxBatchRecords: 1_000 }));
      if (await cursor.advance()) heap.push(cursor);
    }
    let out: ConsumedMessage[] = [];
    for (let top = heap.peek(); top; top = heap.peek()) {
      out.push(top.head);
      if (await top.advance()) heap.updateTop();
      else heap.pop();
      if (out.length >= batchRecords) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  }

  async close(): Promise<void> {
    await this.log?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
