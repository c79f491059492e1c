import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { CameraFrameSchema } from '../../schemas/camera-frame.ts';
import { dataFile } from '../data-dir.ts';
import { readAll, testKafka, uniqueName } from '../kafka/kafka-test-helpers.ts';
import { driftline, driftlineOk, exitOf } from './cli.ts';

// The real Schema Registry test/global-setup.ts starts (Apicurio Registry, Confluent API); shared and in-memory,
// so each test uses its own topic prefix, hence its own subjects.
const registryUrl = inject('SCHEMA_REGISTRY_URL');
const kafka = testKafka();
afterAll(() => kafka.close());

/** The fields of the registry's replies that these tests read (a reply has some of them, or is a version list). */
interface RegistryReply {
  schema: string;
  id: number;
  compatibilityLevel: string;
  error_code: number;
}

async function registry(method: string, path: string, body?: object): Promise<{ status: number; json: RegistryReply }> {
  const res = await fetch(`${registryUrl}${path}`, {
    method,
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as RegistryReply };
}

function cameraDir(frames: number): string {
  const camera = join(mkdtempSync(join(tmpdir(), 'driftline-sr-')), 'press-line');
  mkdirSync(camera);
  for (let n = 1; n <= frames; n++) {
    copyFileSync(dataFile('frames', 'neu-det', 'images', `scratches_${n}.jpg`), join(camera, `scratches_${n}.jpg`));
  }
  return camera;
}

function envFor(prefix: string) {
  const home = mkdtempSync(join(tmpdir(), 'driftline-sr-home-'));
  const env = {
    SCHEMA_REGISTRY_URL: registryUrl,
    DRIFTLINE_TOPIC_PREFIX: prefix,
    DRIFTLINE_HOME: home,
    CLICKHOUSE_URL: '',
  };
  return { home, env };
}

describe('frames through Kafka with SCHEMA_REGISTRY_URL set (real registry)', () => {
  it('publishes Confluent-framed Avro CameraFrames; the frames pipeline decodes them into the warehouse', async () => {
    const camera = cameraDir(40);
    const prefix = `${uniqueName('sr')}.`;
    const { home, env } = envFor(prefix);

    await driftlineOk(['produce', 'frames', camera], env);
    const messages = await readAll(kafka, `${prefix}frames`);
    expect(messages.length).toBe(40);
    const subject = encodeURIComponent(`${prefix}frames-value`);
    const latest = await registry('GET', `/subjects/${subject}/versions/latest`);
    expect(latest.status).toBe(200);
    expect(JSON.parse(latest.json.schema).name).toBe('CameraFrame');
    // driftline set the subject's compatibility on first registration, as Confluent clients do.
    expect((await registry('GET', `/config/${subject}`)).json.compatibilityLevel).toBe('BACKWARD');
    for (const m of messages) {
      expect(m.value[0]).toBe(0); // Confluent magic byte
      expect(m.value.readUInt32BE(1)).toBe(latest.json.id);
    }

    await driftlineOk(['run', 'frames', '--until-idle'], env);
    const warehouse = await openWarehouse({ home });
    try {
      const rows = (await warehouse.query(
        "SELECT count(*) AS n, min(label) AS label FROM frames WHERE camera_id = 'press-line'",
      )) as [{ n: number; label: string }];
      expect(Number(rows[0].n)).toBe(40);
      expect(rows[0].label).toBe('scratches');
      expect(Number(((await warehouse.query('SELECT count(*) AS n FROM dead_letters')) as [{ n: number }])[0].n)).toBe(
        0,
      );
    } finally {
      await warehouse.close();
    }
  }, 120_000);

  it('produce stops with the subject and the fix when the registry refuses the schema as incompatible', async () => {
    const prefix = `${uniqueName('sr-refused')}.`;
    const subject = `${prefix}frames-value`;
    const path = encodeURIComponent(subject);
    expect((await registry('PUT', `/config/${path}`, { compatibility: 'BACKWARD' })).status).toBe(200);
    // Another producer's CameraFrame without camera_id: driftline's (camera_id has no default) cannot read its data.
    const theirs = { ...CameraFrameSchema, fields: CameraFrameSchema.fields.filter((f) => f.name !== 'camera_id') };
    expect((await registry('POST', `/subjects/${path}/versions`, { schema: JSON.stringify(theirs) })).status).toBe(200);

    const child = driftline(['produce', 'frames', cameraDir(2)], envFor(prefix).env);
    expect(await exitOf(child)).not.toBe(0);
    expect(child.output()).toContain(`registering subject ${subject} failed`);
    expect(child.output()).toContain('Incompatible');
    expect(child.output()).toContain('DRIFTLINE_TOPIC_PREFIX');
    expect((await registry('GET', `/subjects/${path}/versions`)).json).toEqual([1]);
  }, 60_000);
});
