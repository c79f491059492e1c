import { type StreamRecord, withValue } from '../../record.ts';
import type { Stage } from '../../stage.ts';

/**
 * An async whole-batch function that answers per record: a value, or an Error for a record it rejects (which then
 * becomes a dead letter with that reason while the rest of the batch carries on). For decoders and models that
 * work best on many inputs at once.
 */
export function mapBatchSettled<I, O>(name: string, fn: (values: I[]) => Promise<(O | Error)[]>): Stage<I, O> {
  return {
    name,
    async onBatch(batch, out) {
      const results = await fn(batch.records.map((r) => r.value));
      if (results.length !== batch.records.length)
        throw new Error(`${name}: got ${results.length} results for ${batch.records.length} records`);
      const output: StreamRecord<O>[] = [];
      results.forEach((result, i) => {
        const record = batch.records[i]!;
        if (result instanceof Error) out.deadLetter(record, result);
        else output.push(withValue(record, result));
      });
      out.emit({ records: output, tokens: batch.tokens });
    },
  };
}
