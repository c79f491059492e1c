import type { TopicPartition } from './transport/transport.ts';
import type { AckToken } from './ack.ts';
import type { StreamRecord } from './record.ts';

/** Records travelling together, with the acknowledgement references they hold (one per array element). */
export interface Batch<T> {
  records: StreamRecord<T>[];
  tokens: AckToken[];
}

/** Output port names: `main` by default; windows add `late`, branch adds `branch-0`, `branch-1`, … */
export type Port = string;
export const MAIN: Port = 'main';

/** What a stage uses to hand results on. Collected by the runtime and forwarded after the stage returns. */
export interface StageOutput<O> {
  /** Emit a batch; ownership of its tokens passes to the runtime. */
  emit(batch: Batch<O>, port?: Port): void;
  /** Emit on a side port whose records have another type (e.g. a window's late records). */
  emitSide(port: Port, batch: Batch<unknown>): void;
  /** Send one input record to the dead-letter destination with the reason; the pipeline carries on. */
  deadLetter(record: StreamRecord<unknown>, error: unknown): void;
}

/**
 * A processing step: the one interface every operator implements. Stateless operators are plain functions
 * over a batch (see operators/); stateful ones (windows) also react to time, end of input and rebalances.
 *
 * Ownership: `onBatch` receives the batch's token references and must pass each one on (in an emitted batch)
 * or release it. The stateless helpers in operators/ do this for you.
 */
export interface Stage<I, O> {
  readonly name: string;
  onBatch(batch: Batch<I>, out: StageOutput<O>): void | Promise<void>;
  /** Wall-clock tick (about every `tickMs`), for idle timeouts and time-based flushes. */
  onTick?(now: number, out: StageOutput<O>): void;
  /** End of input (--until-idle, replay): emit everything still held, e.g. open windows. */
  onEnd?(out: StageOutput<O>): void | Promise<void>;
  /** Partitions were reassigned: drop their state and release the references it held. */
  onRevoke?(partitions: readonly TopicPartition[]): void;
}

/** Turns any thrown value into the one-line reason stored with a dead letter. */
export function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
