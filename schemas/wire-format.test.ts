import avro from 'avsc';
import { fakeSchemaRegistry } from './fake-schema-registry.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobPosting } from './job-posting.ts';
import { SchemaValidationError, encode as encodePlain, schemas } from './registry.ts';
import { createSerde, frame, unframe } from './wire-format.ts';

const posting: JobPosting = {
  id: 'hn-1',
  source: 'hn-2026',
  title: 'Data Scientist',
  company: null,
  location: 'Remote',
  description: 'Models.',
  skills: ['sql'],
  salary_min: null,
  salary_max: null,
  salary_currency: null,
  salary_period: null,
  seniority: null,
  employment_type: 'full-time',
  posted_at: 1_790_000_000_000,
  scraped_at: 1_790_000_100_000,
  url: null,
  label: 1,
};

/**
 * FAKE Confluent Schema Registry: a test double of the external HTTP API, implementing only the
 * two endpoints wire-format.ts calls. Registration always answers FIXED_ID for the current schema;
 * OLD_ID serves an older JobPosting (no `label`, `skills`) to test decoding older producers' frames.
 */
const FIXED_ID = 42;
const OLD_ID = 7;
const oldJobPostingSchema = {
  type: 'record',
  name: 'JobPosting',
  namespace: 'driftline',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'source', type: 'string' },
    { name: 'title', type: 'string' },
    { name: 'company', type: ['null', 'string'], default: null },
    { name: 'description', type: 'string' },
  ],
};

describe('Confluent wire format', () => {
  const fake = fakeSchemaRegistry({ fixedId: FIXED_ID, preload: [[OLD_ID, JSON.stringify(oldJobPostingSchema)]] });
  let url = '';
  beforeAll(async () => {
    url = await fake.start();
  });
  afterAll(() => fake.stop());

  it('frame/unframe: magic byte 0, 4-byte big-endian id, body', () => {
    const f = frame(0x01020304, Buffer.from([9, 8]));
    expect([...f]).toEqual([0, 1, 2, 3, 4, 9, 8]);
    expect(unframe(f)).toEqual({ schemaId: 0x01020304, body: Buffer.from([9, 8]) });
    expect(() => unframe(Buffer.from([1, 0, 0, 0, 1, 2]))).toThrow(/magic byte is 1/);
    expect(() => unframe(Buffer.from([0, 0]))).toThrow(/at least 5/);
  });

  it('encodes with the registered id and decodes back', async () => {
    const serde = createSerde('JobPosting', { schemaRegistryUrl: url, topic: 'jobs' });
    const buf = await serde.encode(posting);
    expect(buf[0]).toBe(0);
    expect(buf.readUInt32BE(1)).toBe(FIXED_ID);
    expect(buf.subarray(5)).toEqual(encodePlain('JobPosting', posting));
    expect(await serde.decode(buf)).toEqual(posting);

    const register = fake.calls.find((c) => c.method === 'POST');
    expect(register?.url).toBe('/subjects/jobs-value/versions');
    expect(JSON.parse((register?.body as { schema: string }).schema)).toEqual(
      JSON.parse(JSON.stringify(schemas.JobPosting.schema)),
    );
  });

  it('registers once and fetches each writer schema at most once', async () => {
    fake.calls.length = 0;
    const serde = createSerde('JobPosting', { schemaRegistryUrl: url, topic: 'jobs' });
    const bufs = await Promise.all([1, 2, 3].map((i) => serde.encode({ ...posting, id: `hn-${i}` })));
    const decoded = await Promise.all(bufs.map((b) => serde.decode(b)));
    expect(decoded.map((d) => d.id)).toEqual(['hn-1', 'hn-2', 'hn-3']);
    expect(fake.calls.filter((c) => c.method === 'POST')).toHaveLength(1);
    // The schema just registered is already known to the client: decoding needs no fetch at all.
    expect(fake.calls.filter((c) => c.method === 'GET' && c.url.startsWith('/schemas/ids/')).length).toBeLessThanOrEqual(1);
  });

  it('decodes frames written with an older schema id into the current shape', async () => {
    const old = avro.Type.forSchema(oldJobPostingSchema as avro.schema.RecordType);
    const buf = frame(OLD_ID, old.toBuffer({ id: 'o1', source: 'hn-2013-2018', title: 'Dev', company: 'X', description: 'd' }));
    const serde = createSerde('JobPosting', { schemaRegistryUrl: url });
    const value = await serde.decode(buf);
    expect(value).toMatchObject({ id: 'o1', company: 'X', skills: [], label: null, salary_min: null });
  });

  it('surfaces registry errors and validation errors clearly', async () => {
    const serde = createSerde('JobPosting', { schemaRegistryUrl: url });
    await expect(serde.decode(frame(999, Buffer.alloc(0)))).rejects.toThrow(/fetching schema id 999 failed/);
    await expect(serde.encode({ ...posting, title: 5 } as unknown as JobPosting)).rejects.toBeInstanceOf(
      SchemaValidationError,
    );
  });

  it('without a registry URL it is plain Avro binary', async () => {
    const serde = createSerde('JobPosting');
    const buf = await serde.encode(posting);
    expect(buf).toEqual(encodePlain('JobPosting', posting));
    expect(await serde.decode(buf)).toEqual(posting);
  });
});
