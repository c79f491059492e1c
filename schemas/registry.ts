import avro from 'avsc';
import type { AvroType } from './avro-type.ts';
import { CameraFrameSchema, CameraFrameType } from './camera-frame.ts';
import { DeadLetterRecordSchema, DeadLetterRecordType } from './dead-letter-record.ts';
import { EventSchema, EventType } from './event.ts';
import { JobPostingSchema, JobPostingType } from './job-posting.ts';
import { PredictionSchema, PredictionType } from './prediction.ts';

/** Every record type, by name: the schema literal (source of truth) and its avsc Type. */
export const schemas = {
  JobPosting: { schema: JobPostingSchema, type: JobPostingType },
  CameraFrame: { schema: CameraFrameSchema, type: CameraFrameType },
  Event: { schema: EventSchema, type: EventType },
  Prediction: { schema: PredictionSchema, type: PredictionType },
  DeadLetterRecord: { schema: DeadLetterRecordSchema, type: DeadLetterRecordType },
} as const;

export type SchemaName = keyof typeof schemas;
export type RecordOf<N extends SchemaName> = AvroType<(typeof schemas)[N]['schema']>;

export const schemaNames = Object.keys(schemas) as SchemaName[];

export function isSchemaName(name: string): name is SchemaName {
  return Object.hasOwn(schemas, name);
}

export function getType(name: SchemaName): avro.Type {
  const entry = schemas[name];
  if (!entry) throw new Error(`Unknown schema "${String(name)}" (known: ${schemaNames.join(', ')})`);
  return entry.type;
}

/** Thrown by `encode` when a value does not match its schema; `errors` lists every problem. */
export class SchemaValidationError extends Error {
  constructor(
    readonly schemaName: string,
    readonly errors: string[],
  ) {
    super(`Invalid ${schemaName}: ${errors.join('; ')}`);
    this.name = 'SchemaValidationError';
  }
}

/** Human-readable name of an avsc type: `double`, `string|null`, `array<string>`, `enum(a|b)`. */
export function describeType(type: avro.Type): string {
  const t = type as avro.Type & {
    types?: avro.Type[];
    itemsType?: avro.Type;
    valuesType?: avro.Type;
    symbols?: string[];
  };
  if (t.types) return t.types.map(describeType).join('|');
  switch (t.typeName) {
    case 'array':
      return `array<${t.itemsType ? describeType(t.itemsType) : '?'}>`;
    case 'map':
      return `map<${t.valuesType ? describeType(t.valuesType) : '?'}>`;
    case 'enum':
      return `one of ${(t.symbols ?? []).map((s) => JSON.stringify(s)).join('|')}`;
    case 'record':
    case 'error':
      return `record ${t.name ?? ''}`.trim();
    default:
      return t.typeName;
  }
}

function describeValue(val: unknown): string {
  if (val === undefined) return 'undefined (missing)';
  if (Buffer.isBuffer(val)) return `Buffer(${val.length})`;
  if (typeof val === 'number' && !Number.isFinite(val)) return String(val);
  if (typeof val === 'bigint') return `${val}n (bigint)`;
  if (typeof val === 'function') return 'function';
  let text: string;
  try {
    text = JSON.stringify(val) ?? String(val);
  } catch {
    text = String(val);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function formatPath(path: readonly string[]): string {
  let out = '';
  for (const part of path) {
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out || '(root)';
}

type Inspectable = avro.Type & {
  types?: avro.Type[];
  itemsType?: avro.Type;
  valuesType?: avro.Type;
  fields?: { name: string; type: avro.Type }[];
};

/**
 * The declared type at `path` (field names, array indices, map keys). avsc reports a value that
 * picks a union branch by its JS type (e.g. 1.5 for ['null','int']) against the branch; this
 * recovers the whole union so the message says `null|int`.
 */
function declaredTypeAt(root: avro.Type, path: readonly string[]): avro.Type | undefined {
  let t: Inspectable | undefined = root;
  for (const step of path) {
    if (!t) return undefined;
    if (t.types) t = t.types.find((b) => b.typeName !== 'null') as Inspectable | undefined;
    if (!t) return undefined;
    if (t.fields) t = t.fields.find((f) => f.name === step)?.type;
    else if (t.itemsType) t = t.itemsType;
    else if (t.valuesType) t = t.valuesType;
    else return undefined;
  }
  return t;
}

/** Validates a value against any avsc type; returns one message per problem (empty = valid). */
export function validateWithType(type: avro.Type, value: unknown): string[] {
  const errors: string[] = [];
  type.isValid(value, {
    errorHook: (path, val, reported) => {
      const declared = declaredTypeAt(type, path) as Inspectable | undefined;
      const bad = declared?.types?.includes(reported) ? declared : reported;
      errors.push(`${formatPath(path)}: expected ${describeType(bad)}, got ${describeValue(val)}`);
    },
  });
  // Undeclared top-level fields: avsc's `noUndeclaredFields` stops at the first problem, so check here.
  const fields = (type as avro.Type & { fields?: { name: string }[] }).fields;
  if (fields && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const known = new Set(fields.map((f) => f.name));
    for (const key of Object.keys(value)) {
      if (!known.has(key)) errors.push(`${key}: unexpected field (not in schema ${type.name ?? ''})`.trimEnd());
    }
  }
  return errors;
}

/** All problems with `value` as a `name` record, e.g. `salary_min: expected null|double, got "abc"`. */
export function validate(name: SchemaName, value: unknown): string[] {
  return validateWithType(getType(name), value);
}

/** Avro binary encoding (no framing). Throws `SchemaValidationError` naming the bad field(s). */
export function encode<N extends SchemaName>(name: N, value: RecordOf<N>): Buffer {
  const type = getType(name);
  try {
    return type.toBuffer(value);
  } catch (err) {
    const errors = validateWithType(type, value);
    throw new SchemaValidationError(name, errors.length ? errors : [(err as Error).message]);
  }
}

/**
 * Decodes Avro binary. Pass `writerSchema` when the bytes were written with a different (older)
 * version of the schema; the data is then resolved into the current shape.
 */
export function decode<N extends SchemaName>(name: N, buf: Buffer, writerSchema?: avro.Type | object): RecordOf<N> {
  const type = getType(name);
  if (writerSchema === undefined) return type.fromBuffer(buf) as RecordOf<N>;
  const writer = isAvscType(writerSchema)
    ? writerSchema
    : avro.Type.forSchema(writerSchema as Parameters<typeof avro.Type.forSchema>[0]);
  return type.fromBuffer(buf, type.createResolver(writer)) as RecordOf<N>;
}

function isAvscType(x: unknown): x is avro.Type {
  return typeof x === 'object' && x !== null && typeof (x as avro.Type).toBuffer === 'function';
}
