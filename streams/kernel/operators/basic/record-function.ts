import type { StreamRecord } from '../../record.ts';
import type { Batch, Stage, StageOutput } from '../../stage.ts';

/**
 * Builds a stateless stage from a function applied to each record of a batch in one synchronous loop
 * (no promise per record). A record whose function throws becomes a dead letter; the rest carry on.
 */
export function perRecordStage<I, O>(
  name: string,
  apply: (record: StreamRecord<I>, output: StreamRecord<O>[]) => void,
): Stage<I, O> {
  return {
    name,
    onBatch(batch: Batch<I>, out: StageOutput<O>) {
      const results: StreamRecord<O>[] = [];
      for (const record of batch.records) {
        try {
          apply(record, results);
        } catch (error) {
          out.deadLetter(record, error);
        }
      }
      out.emit({ records: results, tokens: batch.tokens });
    },
  };
}
