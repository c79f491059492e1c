import avro from 'avsc';

type SchemaInput = avro.Type | object | string;

export type CompatibilityResult = { compatible: true } | { compatible: false; reason: string };

function toType(schema: SchemaInput): avro.Type {
  if (typeof schema === 'object' && schema !== null && typeof (schema as avro.Type).toBuffer === 'function') {
    return schema as avro.Type;
  }
  return avro.Type.forSchema(schema as Parameters<typeof avro.Type.forSchema>[0]);
}

/**
 * BACKWARD compatibility (Confluent's default): can a reader using `newSchema` read data written
 * with `oldSchema`? Uses avsc's schema resolution, `newType.createResolver(oldType)` (reader = new,
 * writer = old), which throws when the two cannot be resolved, e.g. a field added without a
 * default, or a field whose type changed to one the old type cannot be promoted to.
 */
export function checkBackwardCompatible(oldSchema: SchemaInput, newSchema: SchemaInput): CompatibilityResult {
  let oldType: avro.Type;
  let newType: avro.Type;
  try {
    oldType = toType(oldSchema);
    newType = toType(newSchema);
  } catch (err) {
    return { compatible: false, reason: `invalid schema: ${(err as Error).message}` };
  }
  try {
    newType.createResolver(oldType);
    return { compatible: true };
  } catch (err) {
    return { compatible: false, reason: (err as Error).message };
  }
}

/** Like `checkBackwardCompatible`, but throws with the resolver's reason. */
export function assertBackwardCompatible(oldSchema: SchemaInput, newSchema: SchemaInput, label = 'schema'): void {
  const result = checkBackwardCompatible(oldSchema, newSchema);
  if (!result.compatible) {
    throw new Error(`${label}: new schema cannot read data written with the old one: ${result.reason}`);
  }
}
