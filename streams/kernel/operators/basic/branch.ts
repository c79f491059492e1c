import type { StreamRecord } from '../../record.ts';
import type { Stage } from '../../stage.ts';
import { statefulStage } from '../../stateful.ts';

export const branchPort = (i: number) => `branch-${i}`;

/**
 * Routes each record to the first branch whose predicate holds; records matching none go to the last port
 * (`branch-<predicates.length>`), so nothing is dropped without the pipeline saying so.
 */
export function branch<T>(
  name: string,
  predicates: Array<(value: T, record: StreamRecord<T>) => boolean>,
): Stage<T, T> {
  return statefulStage<T, T>(name, {
    onBatch(records, ctx) {
      const routed: StreamRecord<T>[][] = Array.from({ length: predicates.length + 1 }, () => []);
      for (const record of records) {
        let port = predicates.length;
        try {
          for (let i = 0; i < predicates.length; i++) {
            if (predicates[i]!(record.value, record)) {
              port = i;
              break;
            }
          }
        } catch (error) {
          ctx.deadLetter(record, error);
          continue;
        }
        routed[port]!.push(record);
      }
      // Every port carries the batch (even empty), so each branch acknowledges independently.
      routed.forEach((records, i) => {
        ctx.emit(records, { port: branchPort(i), withBatch: true });
      });
    },
  });
}
