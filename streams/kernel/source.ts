import type { PartitionOffset, TopicPartition } from './transport/transport.ts';
import type { StreamRecord } from './record.ts';

/** Records of one partition read in one go; `nextOffset` is what to commit once they are all done. */
export interface SourceBatch<T> {
  topic: string;
  partition: number;
  records: StreamRecord<T>[];
  nextOffset: number;
}

/** Where a pipeline's records come from: a topic on a transport, or files read directly. */
export interface Source<T> {
  readonly name: string;
  /** Available batches, or [] once `waitMs` passes with nothing new. */
  poll(waitMs: number): Promise<SourceBatch<T>[]>;
  commit(offsets: PartitionOffset[]): Promise<void>;
  /** True when everything that exists has been read (used by --until-idle). */
  caughtUp(): Promise<boolean>;
  onRevoked(listener: (partitions: TopicPartition[]) => void): void;
  close(): Promise<void>;
}
