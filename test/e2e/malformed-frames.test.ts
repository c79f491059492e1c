import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { dataFile } from '../data-dir.ts';
import { driftlineOk } from './cli.ts';

describe('malformed frames end to end (driftline run frames --input → embedded warehouse)', () => {
  it('dead-letters corrupt JPEGs, empty files and broken PNGs with a reason; valid frames land, exit 0', async () => {
    const camera = join(mkdtempSync(join(tmpdir(), 'driftline-frames-')), 'line-camera');
    mkdirSync(camera);
    const source = (n: number) => dataFile('frames', 'neu-det', 'images', `crazing_${n}.jpg`);
    let valid = 0;
    let bad = 0;
    for (let n = 1; n <= 30; n++) {
      copyFileSync(source(n), join(camera, `good_${String(n).padStart(3, '0')}.jpg`));
      valid += 1;
    }
    for (let n = 1; n <= 15; n++) {
      const jpeg = readFileSync(source(n + 30));
      writeFileSync(join(camera, `truncated_${n}.jpg`), jpeg.subarray(0, Math.floor(jpeg.length / (2 + (n % 3)))));
      writeFileSync(join(camera, `zero_${n}.jpg`), Buffer.alloc(0));
      writeFileSync(
        join(camera, `noise_${n}.jpg`),
        Buffer.from(Array.from({ length: 4_000 }, (_, i) => (i * 7919 + n) % 256)),
      );
      bad += 3;
    }
    // A real PNG header with a damaged data chunk (CRC no longer matches).
    const png = Buffer.from(
      '89504e470d0a1a0a0000000d49484452000000020000000208000000007b1ac9b8' +
        '0000000c4944415478da63f8ffff3f0005fe02fe0de5a5d80000000049454e44ae426082',
      'hex',
    );
    for (let n = 1; n <= 5; n++) {
      const broken = Buffer.from(png);
      broken[45 + (n % 4)] ^= 0xff;
      writeFileSync(join(camera, `broken_${n}.png`), broken);
      bad += 1;
    }

    const home = mkdtempSync(join(tmpdir(), 'driftline-frames-home-'));
    await driftlineOk(['run', 'frames', '--input', camera], {
      DRIFTLINE_HOME: home,
      CLICKHOUSE_URL: '',
      KAFKA_BROKERS: '',
    });

    const warehouse = await openWarehouse({ home });
    try {
      const frames = (await warehouse.query('SELECT file, width, brightness FROM frames')) as {
        file: string;
        width: number;
        brightness: number;
      }[];
      expect(frames.length).toBe(valid);
      expect(
        frames.every(
          (f) => f.file.includes('good_') && Number(f.width) === 200 && f.brightness > 0 && f.brightness < 1,
        ),
      ).toBe(true);
      const letters = (await warehouse.query('SELECT stage, error FROM dead_letters')) as {
        stage: string;
        error: string;
      }[];
      expect(letters.length).toBe(bad);
      const reasons = new Set(letters.map((l) => l.error.replace(/\d+.*$/, '')));
      expect(reasons.size).toBeGreaterThanOrEqual(3);
      console.log(`frames corpus: ${valid} valid, ${bad} bad; reasons:\n  ${[...reasons].join('\n  ')}`);
    } finally {
      await warehouse.close();
    }
  }, 120_000);
});
