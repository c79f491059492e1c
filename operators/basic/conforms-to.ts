import { type SchemaName, validate } from '../../schemas/registry.ts';
import type { Stage } from '../../streams/stage.ts';
import { perRecordStage } from './record-function.ts';

/** Passes records that match the named schema (schemas/), dead-letters the others with every mismatch named. */
export function conformsTo<T>(name: string, schema: SchemaName): Stage<T, T> {
  return perRecordStage<T, T>(name, (record, output) => {
    const problems = validate(schema, record.value);
    if (problems.length > 0) throw new Error(`does not match the ${schema} schema: ${problems.join('; ')}`);
    output.push(record);
  });
}
