import type { StreamRecord } from '../../record.ts';
import type { Stage } from '../../stage.ts';

/**
 * A whole-batch function, for work that is cheaper per batch (model inference, bulk lookups). It may be async.
 * If it throws, every record of the batch becomes a dead letter with that reason.
 */
export function mapBatch<I, O>(
  name: string,
  fn: (records: StreamRecord<I>[]) => StreamRecord<O>[] | Promise<StreamRecord<O>[]>,
): Stage<I, O> {
  return {
    name,
    async onBatch(batch, out) {
      let results: StreamRecord<O>[];
      try {
        results = await fn(batch.records);
      } catch (error) {
        for (const record of batch.records) out.deadLetter(record, error);
        results = [];
      }
      out.emit({ records: results, tokens: batch.tokens });
    },
  };
}
