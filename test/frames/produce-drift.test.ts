/**
 * `driftline produce frames --config <file>` with the camera `drift` option: the frames published to the input topic
 * are those of the drifted camera (original files before `from`, the fault applied from `from` on), so `run frames`
 * on the topic sees the shift without being told about it.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { normalizeFrame } from '../../operators/normalize/frame.ts';
import type { CameraFrame } from '../../schemas/camera-frame.ts';
import { decode } from '../../schemas/registry.ts';
import { dataFile } from '../data-dir.ts';
import { driftline, driftlineOk, exitOf } from '../e2e/cli.ts';
import { readAll, testKafka, uniqueName } from '../kafka/kafka-test-helpers.ts';

const NAMES = [
  'crazing_1.jpg',
  'inclusion_2.jpg',
  'patches_3.jpg',
  'pitted_surface_4.jpg',
  'rolled-in_scale_5.jpg',
  'scratches_6.jpg',
];
const FROM = 3;

function cameraFolder(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'driftline-produce-drift-')), 'line-7');
  mkdirSync(dir);
  for (const n of NAMES) copyFileSync(dataFile('frames', 'neu-det', 'images', n), join(dir, n));
  return dir;
}

function configFile(pipelines: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'driftline-produce-config-')), 'config.json');
  writeFileSync(file, JSON.stringify({ pipelines }));
  return file;
}

const frameSortKey = (f: CameraFrame) => f.sequence;

describe('driftline produce frames --config (camera drift)', () => {
  it('publishes the drifted camera: originals before `from`, brighter PNGs after; run frames sees it', async () => {
    const camera = cameraFolder();
    const home = mkdtempSync(join(tmpdir(), 'driftline-produce-drift-home-'));
    // Real Kafka for the topic, the embedded warehouse for the run (no ClickHouse needed to read brightness back).
    const env = (prefix: string) => ({
      DRIFTLINE_TOPIC_PREFIX: prefix,
      DRIFTLINE_HOME: home,
      CLICKHOUSE_URL: '',
      DRIFTLINE_MODELS_MANIFEST: join(home, 'models.json'),
    });
    const [plainPrefix, driftPrefix] = [`${uniqueName('pfd-plain')}.`, `${uniqueName('pfd-drift')}.`];
    writeFileSync(join(home, 'models.json'), '{"models":[]}');

    await driftlineOk(['produce', 'frames', camera], env(plainPrefix));
    const config = configFile({ frames: { drift: { from: FROM, brightness: 0.3 } } });
    await driftlineOk(['produce', 'frames', camera, '--config', config], env(driftPrefix));

    const kafka = testKafka();
    const frames = async (prefix: string) =>
      (await readAll(kafka, `${prefix}frames`))
        .map((m) => decode('CameraFrame', m.value) as CameraFrame)
        .sort((a, b) => frameSortKey(a) - frameSortKey(b));
    const [plain, drifted] = [await frames(plainPrefix), await frames(driftPrefix)];
    await kafka.close();
    expect(plain).toHaveLength(NAMES.length);
    expect(drifted.map((f) => [f.camera_id, f.sequence, f.captured_at])).toEqual(
      plain.map((f) => [f.camera_id, f.sequence, f.captured_at]),
    );
    expect(drifted.map((f) => f.encoding)).toEqual(plain.map((f) => (f.sequence >= FROM ? 'png' : 'jpeg')));
    for (const [i, f] of drifted.entries()) {
      if (f.sequence < FROM) {
        expect(Buffer.from(f.data).equals(Buffer.from(plain[i]!.data)), `frame ${f.sequence} untouched`).toBe(true);
      } else {
        const [before, after] = [await normalizeFrame(plain[i]!, { size: 48 }), await normalizeFrame(f, { size: 48 })];
        expect(after.brightness - before.brightness, `frame ${f.sequence}`).toBeGreaterThan(0.15);
      }
    }
    // The original files on disk are untouched.
    expect(
      readFileSync(join(camera, NAMES[0]!)).equals(readFileSync(dataFile('frames', 'neu-det', 'images', NAMES[0]!))),
    ).toBe(true);

    // `run frames` on the drifted topic, without any drift option: the stored statistics show the shift.
    await driftlineOk(['run', 'frames', '--until-idle'], env(driftPrefix));
    const warehouse = await openWarehouse({ home });
    try {
      const rows = await warehouse.query('SELECT sequence, brightness FROM frames ORDER BY sequence');
      expect(rows).toHaveLength(NAMES.length);
      for (const r of rows) {
        // without a model the pipeline normalizes at 64×64 grey
        const expected = await normalizeFrame(drifted.find((f) => f.sequence === Number(r.sequence))!, {
          size: 64,
          gray: true,
        });
        expect(Number(r.brightness)).toBeCloseTo(expected.brightness, 4);
      }
    } finally {
      await warehouse.close();
    }
  }, 120_000);

  it('refuses a malformed drift option with the reason, publishing nothing', async () => {
    const prefix = `${uniqueName('pfd-bad')}.`;
    const child = driftline(
      ['produce', 'frames', cameraFolder(), '--config', configFile({ frames: { drift: { from: 2 } } })],
      { DRIFTLINE_TOPIC_PREFIX: prefix },
    );
    expect(await exitOf(child)).toBe(1);
    expect(child.output()).toMatch(/config option "drift" changes nothing: give brightness, blur or noise/);
    const kafka = testKafka();
    try {
      // The option is checked before produce creates the topic: create it here, to read that nothing is in it.
      await kafka.ensureTopic(`${prefix}frames`, 4);
      expect(await readAll(kafka, `${prefix}frames`)).toEqual([]);
    } finally {
      await kafka.close();
    }
  });
});
