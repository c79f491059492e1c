import type { StreamRecord } from '../../streams/record.ts';
import type { Batch, Stage } from '../../streams/stage.ts';
import { retainAll } from '../../streams/ack.ts';

export const branchPort = (i: number) => `branch-${i}`;

/**
 * Routes each record to the first branch whose predicate holds; records matching none go to the last port
 * (`branch-<predicates.length>`), so nothing is dropped without the pipeline saying so.
 */
export function branch<T>(name: string, predicates: Array<(value: T, record: StreamRecord<T>) => boolean>): Stage<T, T> {
  return {
    name,
    onBatch(batch: Batch<T>, out) {
      const routed: StreamRecord<T>[][] = Array.from({ length: predicates.length + 1 }, () => []);
      for (const record of batch.records) {
        let port = predicates.length;
        try {
          for (let i = 0; i < predicates.length; i++) {
            if (predicates[i]!(record.value, record)) {
              port = i;
              break;
            }
          }
        } catch (error) {
          out.deadLetter(record, error);
          continue;
        }
        routed[port]!.push(record);
      }
      // Every port gets the batch's references, so each branch acknowledges independently.
      retainAll(batch.tokens, routed.length - 1);
      routed.forEach((records, i) => out.emit({ records, tokens: batch.tokens.slice() }, branchPort(i)));
    },
  };
}
