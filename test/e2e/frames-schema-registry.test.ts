import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { fakeSchemaRegistry } from '../../schemas/fake-schema-registry.ts';
import { dataFile } from '../data-dir.ts';
import { readAll, testKafka, uniqueName } from '../kafka/kafka-test-helpers.ts';
import { driftlineOk } from './cli.ts';

const registry = fakeSchemaRegistry();
const kafka = testKafka();
afterAll(async () => {
  await registry.stop();
  await kafka.close();
});

describe('frames through Kafka with SCHEMA_REGISTRY_URL set', () => {
  it('publishes Confluent-framed Avro CameraFrames and the frames pipeline decodes them into the warehouse', async () => {
    const url = await registry.start();
    const camera = join(mkdtempSync(join(tmpdir(), 'driftline-sr-')), 'press-line');
    mkdirSync(camera);
    for (let n = 1; n <= 40; n++) copyFileSync(dataFile('frames', 'neu-det', 'images', `scratches_${n}.jpg`), join(camera, `scratches_${n}.jpg`));
    const prefix = `${uniqueName('sr')}.`;
    const home = mkdtempSync(join(tmpdir(), 'driftline-sr-home-'));
    const env = { SCHEMA_REGISTRY_URL: url, DRIFTLINE_TOPIC_PREFIX: prefix, DRIFTLINE_HOME: home, CLICKHOUSE_URL: '' };

    await driftlineOk(['produce', 'frames', camera], env);
    const messages = await readAll(kafka, `${prefix}frames`);
    expect(messages.length).toBe(40);
    const registered = registry.calls.find((c) => c.method === 'POST');
    expect(registered?.url).toBe(`/subjects/${encodeURIComponent(`${prefix}frames-value`)}/versions`);
    const schemaId = [...registry.byId.keys()][0]!;
    for (const m of messages) {
      expect(m.value[0]).toBe(0); // Confluent magic byte
      expect(m.value.readUInt32BE(1)).toBe(schemaId);
    }

    await driftlineOk(['run', 'frames', '--until-idle'], env);
    const warehouse = await openWarehouse({ home });
    try {
      const rows = (await warehouse.query("SELECT count(*) AS n, min(label) AS label FROM frames WHERE camera_id = 'press-line'")) as [{ n: number; label: string }];
      expect(Number(rows[0].n)).toBe(40);
      expect(rows[0].label).toBe('scratches');
      expect(Number(((await warehouse.query('SELECT count(*) AS n FROM dead_letters')) as [{ n: number }])[0].n)).toBe(0);
    } finally {
      await warehouse.close();
    }
  }, 120_000);
});
