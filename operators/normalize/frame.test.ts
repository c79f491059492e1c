import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { CameraFrame } from '../../schemas/camera-frame.ts';
import { dataFile } from '../../test/data-dir.ts';
import { frameStats, normalizeFrame, normalizeFrames, normalizeRawFrame } from './frame.ts';

const image = (name: string) => readFileSync(dataFile('frames', 'neu-det', 'images', name));

function frame(encoding: CameraFrame['encoding'], data: Buffer, width = 200, height = 200, channels = 1): CameraFrame {
  return { camera_id: 'cam-1', sequence: 7, captured_at: 1_700_000_000_000, width, height, channels, encoding, data };
}

async function rawGray(jpeg: Buffer): Promise<Buffer> {
  return sharp(jpeg).greyscale().raw().toBuffer();
}

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a rejection');
}

describe('normalizeFrame on real NEU-DET images', () => {
  const jpg = image('crazing_1.jpg');

  it('produces a 64x64 single-channel tensor in [0,1] with sane stats', async () => {
    const out = await normalizeFrame(frame('jpeg', jpg), { size: 64, gray: true });
    expect(out.tensor).toBeInstanceOf(Float32Array);
    expect(out.tensor.length).toBe(64 * 64);
    expect([out.width, out.height, out.channels]).toEqual([64, 64, 1]);
    expect([out.source_width, out.source_height]).toEqual([200, 200]);
    expect(Math.min(...out.tensor)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...out.tensor)).toBeLessThanOrEqual(1);
    expect(out.brightness).toBeGreaterThan(0.05);
    expect(out.brightness).toBeLessThan(0.95);
    expect(out.contrast).toBeGreaterThan(0.01);
    expect(out.contrast).toBeLessThan(0.5);
    expect(out.sharpness).toBeGreaterThan(0);
    expect(out).toMatchObject({ camera_id: 'cam-1', sequence: 7, captured_at: 1_700_000_000_000 });
  });

  it('JPEG, PNG and raw versions of one image agree', async () => {
    const fromJpeg = await normalizeFrame(frame('jpeg', jpg));
    const png = await sharp(jpg).greyscale().png().toBuffer();
    const fromPng = await normalizeFrame(frame('png', png));
    const fromRaw = normalizeRawFrame(frame('raw_gray8', await rawGray(jpg)));
    for (const other of [fromPng, fromRaw]) {
      expect(Math.abs(other.brightness - fromJpeg.brightness)).toBeLessThan(0.01);
      expect(Math.abs(other.contrast - fromJpeg.contrast)).toBeLessThan(0.01);
      let diff = 0;
      for (let i = 0; i < other.tensor.length; i++) diff += Math.abs(other.tensor[i]! - fromJpeg.tensor[i]!);
      expect(diff / other.tensor.length).toBeLessThan(0.03);
    }
  });

  it('a blurred copy is less sharp, a brightened copy is brighter, a flattened copy has less contrast', async () => {
    const base = await normalizeFrame(frame('jpeg', image('scratches_10.jpg')));
    const src = image('scratches_10.jpg');
    const blurred = await normalizeFrame(frame('jpeg', await sharp(src).blur(3).jpeg({ quality: 95 }).toBuffer()));
    const brighter = await normalizeFrame(
      frame('jpeg', await sharp(src).linear(1, 40).jpeg({ quality: 95 }).toBuffer()),
    );
    const flatter = await normalizeFrame(
      frame('jpeg', await sharp(src).linear(0.5, 64).jpeg({ quality: 95 }).toBuffer()),
    );
    expect(blurred.sharpness).toBeLessThan(base.sharpness * 0.5);
    expect(brighter.brightness).toBeGreaterThan(base.brightness + 0.1);
    expect(flatter.contrast).toBeLessThan(base.contrast * 0.6);
  });

  it('raw RGB frames become one gray channel; gray: false keeps three', async () => {
    const rgb = await sharp(jpg).toColourspace('srgb').removeAlpha().raw().toBuffer();
    expect(rgb.length).toBe(200 * 200 * 3);
    const g = normalizeRawFrame(frame('raw_rgb8', rgb, 200, 200, 3), { size: 32 });
    expect(g.tensor.length).toBe(32 * 32);
    const c = normalizeRawFrame(frame('raw_rgb8', rgb, 200, 200, 3), { size: 32, gray: false });
    expect(c.tensor.length).toBe(32 * 32 * 3);
    expect(Math.abs(c.brightness - g.brightness)).toBeLessThan(0.01);
  });

  it('normalizeFrames keeps good frames and returns an Error in the slot of a bad one', async () => {
    const out = await normalizeFrames([
      frame('jpeg', jpg),
      frame('jpeg', Buffer.alloc(0)),
      frame('jpeg', image('patches_1.jpg')),
    ]);
    expect(out[0]).not.toBeInstanceOf(Error);
    expect(out[1]).toBeInstanceOf(Error);
    expect((out[1] as Error).message).toMatch(/empty/);
    expect(out[2]).not.toBeInstanceOf(Error);
  });
});

describe('normalizeFrame rejects bad input with a reason', () => {
  const jpg = image('inclusion_5.jpg');

  it('zero bytes', async () => {
    expect(await reason(normalizeFrame(frame('jpeg', Buffer.alloc(0))))).toMatch(/JPEG frame is empty \(0 bytes\)/);
    expect(() => normalizeRawFrame(frame('raw_gray8', Buffer.alloc(0)))).toThrow(/empty \(0 bytes\)/);
  });

  it('truncated JPEG', async () => {
    expect(await reason(normalizeFrame(frame('jpeg', jpg.subarray(0, Math.floor(jpg.length / 2)))))).toMatch(
      /^JPEG data is corrupt: .*truncated/,
    );
  });

  it('JPEG with garbage in the compressed data (caught by the decoder)', async () => {
    const bad = Buffer.from(jpg);
    for (let i = 700; i < 1100; i++) bad[i] = (i * 37) & 0xff;
    expect(await reason(normalizeFrame(frame('jpeg', bad)))).toMatch(/^JPEG data is corrupt: .*Corrupt JPEG data/);
  });

  it('random bytes in a .jpg', async () => {
    const noise = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919 + 13) & 0xff));
    expect(await reason(normalizeFrame(frame('jpeg', noise)))).toMatch(
      /^JPEG data is corrupt: not a JPEG or PNG image/,
    );
  });

  it('PNG with a bad CRC', async () => {
    const png = Buffer.from(await sharp(jpg).png().toBuffer());
    png[png.length - 20] = png[png.length - 20]! ^ 0xff; // inside the last IDAT chunk
    expect(await reason(normalizeFrame(frame('png', png)))).toMatch(/^PNG data is corrupt: CRC mismatch in IDAT chunk/);
  });

  it('truncated PNG', async () => {
    const png = await sharp(jpg).png().toBuffer();
    expect(await reason(normalizeFrame(frame('png', png.subarray(0, 300))))).toMatch(
      /^PNG data is corrupt: .*truncated/,
    );
  });

  it('a JPEG labelled as PNG', async () => {
    expect(await reason(normalizeFrame(frame('png', jpg)))).toMatch(/frame says png but the bytes are a JPEG/);
  });

  it('raw data of the wrong length', async () => {
    const raw = await rawGray(jpg);
    expect(await reason(normalizeFrame(frame('raw_gray8', raw.subarray(1))))).toMatch(
      /raw_gray8 data has 39999 bytes, expected 200x200x1 = 40000/,
    );
    expect(() => normalizeRawFrame(frame('raw_rgb8', raw, 200, 200, 3))).toThrow(/expected 200x200x3 = 120000/);
  });

  it('absurd dimensions', async () => {
    expect(() => normalizeRawFrame(frame('raw_gray8', Buffer.alloc(10), 0, 10))).toThrow(/invalid dimensions 0x10/);
    expect(() => normalizeRawFrame(frame('raw_gray8', Buffer.alloc(10), 10_000, 1))).toThrow(/exceed the 8192px limit/);
    const huge = Buffer.from(jpg);
    const sof = huge.indexOf(Buffer.from([0xff, 0xc0]));
    huge.writeUInt16BE(9000, sof + 5); // height
    expect(await reason(normalizeFrame(frame('jpeg', huge)))).toMatch(
      /JPEG image dimensions 200x9000 exceed the 8192px limit/,
    );
  });
});

describe('frameStats', () => {
  it('uniform image: mean, zero contrast and sharpness', () => {
    const s = frameStats(new Uint8Array(16 * 16).fill(51), 16, 16);
    expect(s.brightness).toBeCloseTo(0.2, 6);
    expect(s.contrast).toBeCloseTo(0, 6);
    expect(s.sharpness).toBeCloseTo(0, 6);
  });

  it('checkerboard: contrast 0.5, high sharpness; same on Float32 input', () => {
    const u8 = new Uint8Array(8 * 8).map((_, i) => (((i % 8) + Math.floor(i / 8)) % 2 ? 255 : 0));
    const s = frameStats(u8, 8, 8);
    expect(s.brightness).toBeCloseTo(0.5, 6);
    expect(s.contrast).toBeCloseTo(0.5, 6);
    expect(s.sharpness).toBeCloseTo(16, 4); // laplacian is +-4 everywhere, mean 0
    const f = frameStats(
      Float32Array.from(u8, (v) => v / 255),
      8,
      8,
    );
    expect(f.sharpness).toBeCloseTo(s.sharpness, 4);
  });
});
