/** See packed-batch.js. */
import type { Message } from '../../streams/kernel/transport/transport.ts';

export interface PackedBatch {
  values: ArrayBuffer;
  ends: Int32Array;
  timestamps: Float64Array;
  partitions: Int32Array;
  keys: (string | null)[];
  headers?: (Record<string, string> | undefined)[];
}
export declare function packBatch(messages: Message[]): { batch: PackedBatch; transfer: ArrayBuffer[] };
export declare function unpackBatch(batch: PackedBatch): {
  key: string | null;
  value: Buffer;
  timestamp: string;
  headers?: Record<string, string>;
  partition?: number;
}[];
