/**
 * The repartition step: per-partition work runs wherever its input partition is consumed, and its output meets in
 * one place for the stream-wide stages (drift windows, labelling budgets, A vs B), as Kafka Streams and Flink do it.
 *
 * `repartitionSink` writes records to an internal topic of one partition, each with the coordinates of the input
 * record it came from (`driftline.origin`). `repartitionSource` reads that topic back for the stream-wide stages:
 *
 * - a record keeps its *input* position, so the stream-wide windows keep one clock per input partition and close on
 *   the slowest one (windower-watermark.ts), whichever worker wrote it and however the writers interleaved;
 * - a record whose origin was already read is dropped: input redelivered after a worker crashed (or a rebalance) is
 *   counted once;
 * - nothing is handed on until every input partition has been heard from (or `gateTimeoutMs` passed, or the input
 *   is complete): a window clock that knew only the fast partitions would close windows the slow ones still feed.
 *
 * Offsets of the internal topic are committed as for any source: once every window holding a record has closed and
 * its rows are written. Works on any transport (Kafka, the embedded log, in memory).
 */
import type { Consumer, Message, PartitionOffset, Producer, TopicPartition, Transport } from './transport/transport.ts';
import type { StreamRecord } from './record.ts';
import type { Sink } from './sink.ts';
import type { Source, SourceBatch } from './source.ts';

/** Header holding the input record's `topic`, `partition` and `offset`, NUL-separated. */
export const ORIGIN_HEADER = 'driftline.origin';

/** The internal topic of a consumer group's pipeline, named like Kafka Streams' `<application id>-repartition`. */
export const repartitionTopic = (group: string) => `${group}-repartition`;

/** How stream values travel through the internal topic. */
export interface RepartitionCodec<T> {
  encode(value: T): Buffer;
  decode(bytes: Buffer): T;
}

/** JSON, for values that are plain data. */
export const jsonCodec = <T>(): RepartitionCodec<T> => ({
  encode: (value) => Buffer.from(JSON.stringify(value)),
  decode: (bytes) => JSON.parse(bytes.toString()) as T,
});

const originOf = (r: StreamRecord<unknown>) =>
  `${r.position.topic}\u0000${r.position.partition}\u0000${r.position.offset}`;

/**
 * Writes records to partition 0 of `topic`, in order (one write at a time), each tagged with its input position.
 * Acknowledged once the log has them, so the input offsets commit only after that.
 */
export function repartitionSink<T>(
  transport: Transport,
  options: { topic: string; codec: RepartitionCodec<T> },
): Sink<T> {
  let producer: Promise<Producer> | undefined;
  const connect = () => (producer ??= transport.ensureTopic(options.topic, 1).then(() => transport.producer()));
  return {
    name: `repartition:${options.topic}`,
    batchRecords: 500,
    maxWaitMs: 50,
    async write(records) {
      const messages: Message[] = records.map((r) => ({
        key: r.key,
        value: options.codec.encode(r.value),
        timestamp: r.eventTime,
        headers: { ...r.headers, [ORIGIN_HEADER]: originOf(r) },
        partition: 0,
      }));
      await (await connect()).send(options.topic, messages);
    },
    async close() {
      if (producer) await (await producer).close();
    },
  };
}

export interface RepartitionSourceOptions<T> {
  topic: string;
  /** The consumer group of the stream-wide stages: one member holds the topic's one partition at a time. */
  group: string;
  codec: RepartitionCodec<T>;
  /** The input partitions whose clocks the stream-wide windows wait for, e.g. every partition of the input topic. */
  inputPartitions: TopicPartition[];
  /** Stop waiting for input partitions not heard from this long after the first record (default 30 s). */
  gateTimeoutMs?: number;
  /**
   * True once the whole input is in the internal topic (every input partition committed by its worker): only then
   * may the source say it has caught up. Default: always (one process reads the input and this topic).
   */
  inputComplete?: () => Promise<boolean>;
  /** Called when records are first read: this consumer holds the topic (a worker says so). */
  onFirstRead?: () => void;
}

/** Reads the internal topic back as the stream the per-partition stages wrote, in input positions (see above). */
export function repartitionSource<T>(transport: Transport, options: RepartitionSourceOptions<T>): Source<T> {
  let consumer: Promise<Consumer> | undefined;
  const connect = () =>
    (consumer ??= transport
      .ensureTopic(options.topic, 1)
      .then(() => transport.consumer({ group: options.group, topics: [options.topic], fromBeginning: true })));
  const gate = new InputGate<T>(options.inputPartitions, options.gateTimeoutMs ?? 30_000);
  const seen = new Set<string>();
  const revokeListeners: Array<(partitions: TopicPartition[]) => void> = [];
  return {
    name: `source:${options.topic}`,
    async poll(waitMs) {
      const batches = await (await connect()).poll(waitMs);
      if (batches.length > 0) options.onFirstRead?.();
      for (const b of batches) {
        const records: StreamRecord<T>[] = [];
        for (const m of b.messages) {
          const origin = m.headers?.[ORIGIN_HEADER];
          if (origin === undefined || seen.has(origin)) continue; // redelivered input: counted once
          seen.add(origin);
          const [topic, partition, offset] = origin.split('\u0000');
          const position = { topic: topic!, partition: Number(partition), offset: Number(offset) };
          const headers = { ...m.headers };
          delete headers[ORIGIN_HEADER];
          records.push({
            key: m.key,
            value: options.codec.decode(m.value),
            eventTime: m.timestamp,
            headers,
            position,
            raw: m.value,
          });
          gate.heard(position);
        }
        const nextOffset = b.messages[b.messages.length - 1]!.offset + 1;
        gate.hold({ topic: b.topic, partition: b.partition, records, nextOffset });
      }
      return gate.release(Date.now());
    },
    async commit(offsets: PartitionOffset[]) {
      await (await connect()).commit(offsets);
    },
    async caughtUp() {
      if (!(await (options.inputComplete?.() ?? true))) return false;
      if (!(await (await connect()).caughtUp())) return false;
      gate.open(); // the input is complete: no partition is still to be heard from
      return gate.empty;
    },
    onRevoked(listener) {
      revokeListeners.push(listener);
      void connect().then((c) => c.onRevoked(listener));
    },
    async close() {
      if (consumer) await (await consumer).close();
    },
  };
}

/** Holds batches back until every input partition has been heard from (or the wait timed out, or input ended). */
class InputGate<T> {
  private readonly waitingFor: Set<string>;
  private held: SourceBatch<T>[] = [];
  private firstHeldAt = 0;
  private isOpen: boolean;

  constructor(
    inputPartitions: TopicPartition[],
    private readonly timeoutMs: number,
  ) {
    this.waitingFor = new Set(inputPartitions.map((p) => `${p.topic}\u0000${p.partition}`));
    this.isOpen = this.waitingFor.size === 0;
  }

  heard(p: TopicPartition): void {
    this.waitingFor.delete(`${p.topic}\u0000${p.partition}`);
    if (this.waitingFor.size === 0) this.isOpen = true;
  }

  hold(batch: SourceBatch<T>): void {
    if (this.held.length === 0) this.firstHeldAt = Date.now();
    this.held.push(batch); // even with no records left: its offsets still have to be committed in order
  }

  open(): void {
    this.isOpen = true;
  }

  get empty(): boolean {
    return this.held.length === 0;
  }

  release(now: number): SourceBatch<T>[] {
    if (!this.isOpen && this.held.length > 0 && now - this.firstHeldAt >= this.timeoutMs) this.isOpen = true;
    if (!this.isOpen) return [];
    const out = this.held;
    this.held = [];
    return out;
  }
}
