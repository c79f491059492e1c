import { type SchemaName, validate } from '../../schemas/registry.ts';
import type { Stage } from '../../streams/kernel/stage.ts';
import { perRecordStage } from '../../streams/kernel/operators/basic/record-function.ts';

/**
 * Passes records that match the named schema (schemas/), dead-letters the others with every mismatch named. `part`
 * picks what to check in a record (undefined: nothing to check, the record passes), for streams of several kinds.
 */
export function conformsTo<T>(
  name: string,
  schema: SchemaName,
  part: (value: T) => unknown = (value) => value,
): Stage<T, T> {
  return perRecordStage<T, T>(name, (record, output) => {
    const checked = part(record.value);
    const problems = checked === undefined ? [] : validate(schema, checked);
    if (problems.length > 0) throw new Error(`does not match the ${schema} schema: ${problems.join('; ')}`);
    output.push(record);
  });
}
