// Kafka message serde for the record types in schemas/.
//
// Without a Schema Registry: plain Avro binary (avsc), both sides must agree on the schema.
// With one: the Confluent wire format, the framing every Confluent/Kafka-ecosystem client expects:
//
//   byte 0     magic byte, always 0
//   bytes 1-4  schema id, 32-bit big-endian, as assigned by the Schema Registry
//   bytes 5-   Avro binary body
//
// `@kafkajs/confluent-schema-registry` is not a dependency, so the framing and the two REST calls
// it needs are implemented here with `fetch`:
//   POST /subjects/<subject>/versions  {"schema": "<json>"}  -> {"id": n}   (register / look up)
//   GET  /schemas/ids/<id>                                    -> {"schema": "<json>"}
import avro from 'avsc';
import { decode as decodePlain, encode as encodePlain, getType, type RecordOf, type SchemaName } from './registry.ts';
import { schemas } from './registry.ts';

export const MAGIC_BYTE = 0;
export const HEADER_SIZE = 5;
const REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export interface SerdeOptions {
  /** e.g. http://localhost:8081. Without it, values are plain Avro binary with no framing. */
  schemaRegistryUrl?: string;
  /** Kafka topic; the subject is `<topic>-value` (TopicNameStrategy). Defaults to the schema name. */
  topic?: string;
  /** Explicit subject, overriding `<topic>-value`. */
  subject?: string;
  /** Extra headers for registry requests (e.g. Authorization). */
  headers?: Record<string, string>;
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

async function registryRequest<T>(url: string, init: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    throw new Error(`schema registry request ${init.method ?? 'GET'} ${url} failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`schema registry ${init.method ?? 'GET'} ${url} -> HTTP ${res.status}: ${text.slice(0, 500)}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`schema registry ${init.method ?? 'GET'} ${url} returned non-JSON: ${text.slice(0, 200)}`);
  }
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
  const headers = { 'Content-Type': REGISTRY_CONTENT_TYPE, Accept: REGISTRY_CONTENT_TYPE, ...options.headers };

  // Registration happens once per serde (concurrent encodes share the request; a failure is retried
  // on the next encode). The registry returns the existing id if the schema is already registered.
  let idPromise: Promise<number> | undefined;
  const schemaId = (): Promise<number> => {
    idPromise ??= registryRequest<{ id: number }>(
      `${baseUrl}/subjects/${encodeURIComponent(subject)}/versions`,
      { method: 'POST', headers, body: JSON.stringify({ schema: JSON.stringify(schemas[name].schema) }) },
    ).then(
      ({ id }) => {
        if (typeof id !== 'number') throw new Error(`schema registry did not return an id for subject ${subject}`);
        return id;
      },
      (err: unknown) => {
        idPromise = undefined;
        throw err;
      },
    );
    return idPromise;
  };

  // Writer schemas by id, resolved into the current reader type (handles older producers).
  const resolvers = new Map<number, Promise<ReturnType<avro.Type['createResolver']>>>();
  const resolverFor = (id: number) => {
    let r = resolvers.get(id);
    if (!r) {
      r = registryRequest<{ schema: string; schemaType?: string }>(`${baseUrl}/schemas/ids/${id}`, {
        method: 'GET',
        headers,
      }).then(
        ({ schema, schemaType }) => {
          if (schemaType && schemaType !== 'AVRO') throw new Error(`schema id ${id} is ${schemaType}, not AVRO`);
          const writer = avro.Type.forSchema(JSON.parse(schema) as Parameters<typeof avro.Type.forSchema>[0]);
          return readerType.createResolver(writer);
        },
        (err: unknown) => {
          resolvers.delete(id);
          throw err;
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
