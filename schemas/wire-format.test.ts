import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import { describe, expect, inject, it } from 'vitest';
import type { JobPostingRecord as JobPosting } from './job-posting.ts';
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
 * Against the real Schema Registry that test/global-setup.ts starts (Apicurio Registry, Confluent API). The
 * registry is shared and in-memory for the whole run, so every test uses its own subjects (a fresh topic name).
 */
const registryUrl = inject('SCHEMA_REGISTRY_URL');
const freshTopic = (what: string) => `wire-${what}-${randomUUID().slice(0, 8)}`;

/** A call to the registry's own REST API (Confluent's), outside driftline. */
/** The fields of the registry's replies that these tests read (a reply has some of them, or is a version list). */
interface RegistryReply {
  schema: string;
  id: number;
  compatibilityLevel: string;
  error_code: number;
}

async function registryCall(
  method: string,
  path: string,
  body?: object,
): Promise<{ status: number; json: RegistryReply }> {
  const res = await fetch(`${registryUrl}${path}`, {
    method,
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as RegistryReply };
}

const setBackward = (subject: string) => registryCall('PUT', `/config/${subject}`, { compatibility: 'BACKWARD' });
const registerRaw = (subject: string, schema: object) =>
  registryCall('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(schema) });

/** JobPosting as an older producer wrote it: no location, skills, salaries, ... label (all have defaults now). */
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
  it('frame/unframe: magic byte 0, 4-byte big-endian id, body', () => {
    const f = frame(0x01020304, Buffer.from([9, 8]));
    expect([...f]).toEqual([0, 1, 2, 3, 4, 9, 8]);
    expect(unframe(f)).toEqual({ schemaId: 0x01020304, body: Buffer.from([9, 8]) });
    expect(() => unframe(Buffer.from([1, 0, 0, 0, 1, 2]))).toThrow(/magic byte is 1/);
    expect(() => unframe(Buffer.from([0, 0]))).toThrow(/at least 5/);
  });

  it('registers under <topic>-value, frames with the registry id and decodes back', async () => {
    const topic = freshTopic('enc');
    const serde = createSerde('JobPosting', { schemaRegistryUrl: registryUrl, topic });
    const bufs = await Promise.all([1, 2, 3].map((i) => serde.encode({ ...posting, id: `hn-${i}` })));
    const latest = await registryCall('GET', `/subjects/${topic}-value/versions/latest`);
    expect(latest.status).toBe(200);
    expect(JSON.parse(latest.json.schema)).toEqual(JSON.parse(JSON.stringify(schemas.JobPosting.schema)));
    // Concurrent encodes share one registration: one version in the subject.
    expect((await registryCall('GET', `/subjects/${topic}-value/versions`)).json).toEqual([1]);
    for (const buf of bufs) {
      expect(buf[0]).toBe(0);
      expect(buf.readUInt32BE(1)).toBe(latest.json.id);
    }
    expect(bufs[0]!.subarray(5)).toEqual(encodePlain('JobPosting', { ...posting, id: 'hn-1' }));
    // A second serde (another process, in effect) looks the writer schema up by id.
    const reader = createSerde('JobPosting', { schemaRegistryUrl: registryUrl });
    expect((await Promise.all(bufs.map((b) => reader.decode(b)))).map((d) => d.id)).toEqual(['hn-1', 'hn-2', 'hn-3']);
    expect(await reader.decode(bufs[0]!)).toEqual({ ...posting, id: 'hn-1' });
  });

  it('one schema has one id in every subject, as in Confluent (contentId ids)', async () => {
    const [a, b] = [freshTopic('same'), freshTopic('same')];
    const idIn = async (topic: string) =>
      (await createSerde('JobPosting', { schemaRegistryUrl: registryUrl, topic }).encode(posting)).readUInt32BE(1);
    expect(await idIn(b)).toBe(await idIn(a));
  });

  it('evolves compatibly: old and new versions both decode, old data in the new shape', async () => {
    const topic = freshTopic('evolve');
    const subject = `${topic}-value`;
    expect((await setBackward(subject)).status).toBe(200);
    const v1 = await registerRaw(subject, oldJobPostingSchema);
    expect(v1.status).toBe(200);
    const old = avro.Type.forSchema(oldJobPostingSchema as avro.schema.RecordType);
    const oldValue = { id: 'o1', source: 'hn-2013-2018', title: 'Dev', company: 'X', description: 'd' };
    const oldFrame = frame(v1.json.id, old.toBuffer(oldValue));

    // Today's JobPosting adds fields, all with defaults: the registry's BACKWARD check accepts it as version 2.
    const serde = createSerde('JobPosting', { schemaRegistryUrl: registryUrl, topic });
    const newFrame = await serde.encode(posting);
    expect(newFrame.readUInt32BE(1)).not.toBe(v1.json.id);
    expect((await registryCall('GET', `/subjects/${subject}/versions`)).json).toEqual([1, 2]);
    expect((await registryCall('GET', `/config/${subject}`)).json.compatibilityLevel).toBe('BACKWARD');

    const reader = createSerde('JobPosting', { schemaRegistryUrl: registryUrl, topic });
    expect(await reader.decode(newFrame)).toEqual(posting);
    expect(await reader.decode(oldFrame)).toMatchObject({ ...oldValue, skills: [], label: null, salary_min: null });
  });

  it('the registry refuses an incompatible change (409), and driftline says which subject and what to do', async () => {
    const topic = freshTopic('refuse');
    const subject = `${topic}-value`;
    await setBackward(subject);
    await createSerde('JobPosting', { schemaRegistryUrl: registryUrl, topic }).encode(posting);
    // A new required field without a default cannot read the data already written: BACKWARD says no.
    const current = JSON.parse(JSON.stringify(schemas.JobPosting.schema));
    const withRequired = { ...current, fields: [...current.fields, { name: 'team', type: 'string' }] };
    const refused = await registerRaw(subject, withRequired);
    expect(refused.status).toBe(409);
    expect(refused.json.error_code).toBe(409);
    expect((await registryCall('GET', `/subjects/${subject}/versions`)).json).toEqual([1]);

    // The other way round: the subject's latest lacks a field driftline's schema requires (title).
    const other = freshTopic('refuse');
    await setBackward(`${other}-value`);
    const noTitle = { ...current, fields: current.fields.filter((f: { name: string }) => f.name !== 'title') };
    expect((await registerRaw(`${other}-value`, noTitle)).status).toBe(200);
    const err = await createSerde('JobPosting', { schemaRegistryUrl: registryUrl, topic: other })
      .encode(posting)
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(err?.message).toContain(`registering subject ${other}-value failed`);
    expect(err?.message).toMatch(/409.*DRIFTLINE_TOPIC_PREFIX/s);
  });

  it('surfaces registry errors and validation errors clearly', async () => {
    const serde = createSerde('JobPosting', { schemaRegistryUrl: registryUrl });
    const unknownId = 0x7ffffff0; // never handed out: ids count up from 1
    await expect(serde.decode(frame(unknownId, Buffer.alloc(0)))).rejects.toThrow(
      `fetching schema id ${unknownId} failed`,
    );
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
