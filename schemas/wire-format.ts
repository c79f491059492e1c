// Kafka message serde for the record types in schemas/.
//
// Without a Schema Registry: plain Avro binary (avsc), both sides must agree on the schema.
// With one: the Confluent wire format, the framing every Confluent/Kafka-ecosystem client expects:
//
//   byte 0     magic byte, always 0
//   bytes 1-4  schema id, 32-bit big-endian, as assigned by the Schema Registry
//   bytes 5-   Avro binary body
//
// Registration and writer-schema lookup go through `@kafkajs/confluent-schema-registry` (the Kafka
// ecosystem's client); decoding resolves the writer schema into the current reader schema, so frames
// written by older producers arrive in today's shape.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { redactText } from '../config/redact.ts';
import { decode as decodePlain, encode as encodePlain, getType, type RecordOf, type SchemaName } from './registry.ts';
import { schemas } from './registry.ts';

export const MAGIC_BYTE = 0;
export const HEADER_SIZE = 5;

export interface SerdeOptions {
  /** e.g. http://localhost:8081. Without it, values are plain Avro binary with no framing. */
  schemaRegistryUrl?: string;
  /** Kafka topic; the subject is `<topic>-value` (TopicNameStrategy). Defaults to the schema name. */
  topic?: string;
  /** Explicit subject, overriding `<topic>-value`. */
  subject?: string;
}

export interface Serde<T> {
  encode(value: T): Promise<Buffer>;
  decode(buf: Buffer): Promise<T>;
}

/** Builds a Confluent frame: magic byte, big-endian schema id, Avro body. */
export function frame(schemaId: number, body: Buffer): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0xffffffff) {
    throw new Error(`schema id must be a 32-bit unsigned integer, got ${schemaId}`);
  }
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

/** Splits a Confluent frame into schema id and Avro body; throws on anything else. */
export function unframe(buf: Buffer): { schemaId: number; body: Buffer } {
  if (buf.length < HEADER_SIZE) {
    throw new Error(`not a Confluent-framed message: ${buf.length} bytes, need at least ${HEADER_SIZE}`);
  }
  const magic = buf.readUInt8(0);
  if (magic !== MAGIC_BYTE) {
    throw new Error(`not a Confluent-framed message: magic byte is ${magic}, expected ${MAGIC_BYTE}`);
  }
  return { schemaId: buf.readUInt32BE(1), body: buf.subarray(HEADER_SIZE) };
}

export function createSerde<N extends SchemaName>(name: N, options: SerdeOptions = {}): Serde<RecordOf<N>> {
  const readerType = getType(name);
  const baseUrl = options.schemaRegistryUrl?.replace(/\/+$/, '');

  if (!baseUrl) {
    return {
      encode: async (value) => encodePlain(name, value),
      decode: async (buf) => decodePlain(name, buf),
    };
  }

  const subject = options.subject ?? `${options.topic ?? name}-value`;
  const registry = new SchemaRegistry({ host: baseUrl, clientId: 'driftline' });
  const describe = (what: string, err: unknown, hint = '') => {
    // The message can end up in a dead-letter row: no credentials from the URL (the library's message may quote it).
    const message = `schema registry ${baseUrl}: ${what} failed: ${(err as Error)?.message ?? String(err)}${hint}`;
    return new Error(redactText(message), { cause: err });
  };

  // Registration happens once per serde (concurrent encodes share the request; a failure is retried
  // on the next encode). The registry returns the existing id if the schema is already registered.
  let idPromise: Promise<number> | undefined;
  const schemaId = (): Promise<number> => {
    idPromise ??= registry
      .register({ type: SchemaType.AVRO, schema: JSON.stringify(schemas[name].schema) }, { subject })
      .then(
        ({ id }) => id,
        (err: unknown) => {
          idPromise = undefined;
          throw describe(`registering subject ${subject}`, err, registrationHint(err, name, subject, baseUrl));
        },
      );
    return idPromise;
  };

  // Writer schemas by id, resolved into the current reader type (handles older producers).
  const resolvers = new Map<number, Promise<ReturnType<avro.Type['createResolver']>>>();
  const resolverFor = (id: number) => {
    let r = resolvers.get(id);
    if (!r) {
      r = registry.getSchema(id).then(
        (writer) => readerType.createResolver(writer as unknown as avro.Type),
        (err: unknown) => {
          resolvers.delete(id);
          throw describe(`fetching schema id ${id}`, err);
        },
      );
      resolvers.set(id, r);
    }
    return r;
  };

  return {
    async encode(value) {
      const body = encodePlain(name, value); // validates first, so a bad record never hits the registry
      return frame(await schemaId(), body);
    },
    async decode(buf) {
      const { schemaId: id, body } = unframe(buf);
      const resolver = await resolverFor(id);
      return readerType.fromBuffer(body, resolver) as RecordOf<N>;
    },
  };
}

/** What to do when the registry refuses a registration: an incompatible schema (409) or another compatibility level. */
function registrationHint(err: unknown, name: string, subject: string, baseUrl: string): string {
  const e = err as { status?: number; name?: string } | undefined;
  if (e?.status === 409) {
    return (
      ` (409: the registry's compatibility check found driftline's ${name} schema cannot read data written with` +
      ` the subject's latest version, e.g. a field added without a default or a changed type; fix: produce to a` +
      ` new subject, i.e. another topic (DRIFTLINE_TOPIC_PREFIX), or, if the data allows it, change the subject's` +
      ` check: PUT ${baseUrl}/config/${encodeURIComponent(subject)} {"compatibility":"NONE"})`
    );
  }
  if (e?.name === 'ConfluentSchemaRegistryCompatibilityError') {
    const config = `${baseUrl}/config/${encodeURIComponent(subject)}`;
    return ` (driftline registers with compatibility BACKWARD; set it: PUT ${config} {"compatibility":"BACKWARD"})`;
  }
  return '';
}
