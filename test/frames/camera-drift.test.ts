/**
 * The camera `drift` option on real NEU-DET frames: a lighting, focus or sensor fault from a given frame on, seeded
 * and reproducible, applied to the pixels (measured back through the stream's own normalizer).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyCameraDrift, isDrifted, parseCameraDrift } from '../../connectors/camera/camera-drift.ts';
import { readFrameFiles } from '../../connectors/camera/frame-files.ts';
import { readImageDirectory } from '../../connectors/camera/image-directory.ts';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import { normalizeFrame } from '../../operators/normalize/frame.ts';
import type { CameraFrame } from '../../schemas/camera-frame.ts';
import { decode } from '../../schemas/registry.ts';
import { dataFile } from '../data-dir.ts';

const image = (name: string) => dataFile('frames', 'neu-det', 'images', name);

const jpegFrame = (name: string, sequence = 10, captured_at = 1_000_000): CameraFrame => ({
  camera_id: 'line-1',
  sequence,
  captured_at,
  width: 200,
  height: 200,
  channels: 3,
  encoding: 'jpeg',
  data: readFileSync(image(name)),
});

const stats = async (frame: CameraFrame) => normalizeFrame(frame, { size: 48 });

async function collect(batches: AsyncIterable<Message[]>): Promise<Message[]> {
  const out: Message[] = [];
  for await (const batch of batches) out.push(...batch);
  return out;
}

describe('camera drift option', () => {
  it('parses a --config drift option and says what is wrong with a bad one', () => {
    expect(parseCameraDrift({ from: 900, brightness: 0.3 })).toEqual({ from: 900, brightness: 0.3 });
    expect(parseCameraDrift({ from: '2026-01-05T10:00:00Z', blur: 1.5, noise: 0.02, seed: 4 }).blur).toBe(1.5);
    expect(() => parseCameraDrift({ brightness: 0.3 })).toThrow(
      /"drift" \.from must be a frame index \(integer >= 0\) or an ISO time/,
    );
    expect(() => parseCameraDrift({ from: -1, brightness: 0.3 })).toThrow(/\.from must be/);
    expect(() => parseCameraDrift({ from: 'yesterday-ish', brightness: 0.3 })).toThrow(/\.from must be/);
    expect(() => parseCameraDrift({ from: 0, brightnes: 0.3 })).toThrow(/unknown keys brightnes/);
    expect(() => parseCameraDrift({ from: 0, blur: -2 })).toThrow(/\.blur must be a number >= 0/);
    expect(() => parseCameraDrift({ from: 0 })).toThrow(/changes nothing/);
    expect(() => parseCameraDrift('brighter')).toThrow(/must be an object/);
  });

  it('starts at a frame index or at an ISO time', () => {
    const at = Date.parse('2026-01-05T10:00:00Z');
    expect(isDrifted({ from: 5 }, { sequence: 4, captured_at: at })).toBe(false);
    expect(isDrifted({ from: 5 }, { sequence: 5, captured_at: 0 })).toBe(true);
    expect(isDrifted({ from: '2026-01-05T10:00:00Z' }, { sequence: 99, captured_at: at - 1 })).toBe(false);
    expect(isDrifted({ from: '2026-01-05T10:00:00Z' }, { sequence: 0, captured_at: at })).toBe(true);
  });

  it('lighting: +0.3 raises measured brightness by about 0.3 (less where pixels clip), as lossless PNG', async () => {
    const frame = jpegFrame('patches_7.jpg');
    expect(await applyCameraDrift(frame, { from: 11, brightness: 0.3 })).toBe(frame); // before `from`: untouched
    const drifted = await applyCameraDrift(frame, { from: 10, brightness: 0.3 });
    expect(drifted).toMatchObject({ encoding: 'png', width: 200, height: 200, sequence: 10, captured_at: 1_000_000 });
    const [before, after] = [await stats(frame), await stats(drifted)];
    expect(after.brightness - before.brightness).toBeGreaterThan(0.2);
    expect(after.brightness - before.brightness).toBeLessThanOrEqual(0.3 + 1 / 255);
    const darker = await stats(await applyCameraDrift(frame, { from: 0, brightness: -0.2 }));
    expect(before.brightness - darker.brightness).toBeGreaterThan(0.1);
  });

  it('focus: blur lowers the sharpness; sensor: noise raises it, seeded per frame', async () => {
    const frame = jpegFrame('scratches_3.jpg');
    const before = await stats(frame);
    const blurred = await stats(await applyCameraDrift(frame, { from: 0, blur: 2 }));
    expect(blurred.sharpness).toBeLessThan(before.sharpness / 2);
    expect(Math.abs(blurred.brightness - before.brightness)).toBeLessThan(0.01);

    const noisy = await applyCameraDrift(frame, { from: 0, noise: 0.08 });
    expect((await stats(noisy)).sharpness).toBeGreaterThan(before.sharpness * 1.5);
    const again = await applyCameraDrift(frame, { from: 0, noise: 0.08 });
    expect(Buffer.from(again.data).equals(Buffer.from(noisy.data))).toBe(true);
    const otherFrame = await applyCameraDrift({ ...frame, sequence: 11 }, { from: 0, noise: 0.08 });
    expect(Buffer.from(otherFrame.data).equals(Buffer.from(noisy.data))).toBe(false);
    const otherSeed = await applyCameraDrift(frame, { from: 0, noise: 0.08, seed: 2 });
    expect(Buffer.from(otherSeed.data).equals(Buffer.from(noisy.data))).toBe(false);
  });

  it('raw frames keep their encoding; frames that do not decode pass unchanged (normalize rejects them)', async () => {
    const raw: CameraFrame = {
      camera_id: 'v',
      sequence: 3,
      captured_at: 0,
      width: 4,
      height: 2,
      channels: 1,
      encoding: 'raw_gray8',
      data: Buffer.from([0, 50, 100, 150, 200, 250, 255, 10]),
    };
    const brighter = await applyCameraDrift(raw, { from: 0, brightness: 0.1 });
    expect(brighter.encoding).toBe('raw_gray8');
    expect([...brighter.data]).toEqual([26, 76, 126, 176, 226, 255, 255, 36]);
    const corrupt = { ...jpegFrame('crazing_1.jpg'), data: readFileSync(image('crazing_1.jpg')).subarray(0, 500) };
    expect(await applyCameraDrift(corrupt, { from: 0, brightness: 0.3 })).toBe(corrupt);
  });

  it('camera connector: frames before `from` are the originals, later drifted, headers and times kept', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'driftline-camdrift-')), 'line-2');
    mkdirSync(dir);
    const names = ['crazing_1.jpg', 'inclusion_2.jpg', 'patches_3.jpg', 'scratches_4.jpg'];
    for (const n of names) copyFileSync(image(n), join(dir, n));
    const files = names.map((n) => join(dir, n));
    const plain = await collect(readFrameFiles(files, { fps: 2, startAt: 5_000 }));
    const drifted = await collect(
      readFrameFiles(files, { fps: 2, startAt: 5_000, drift: { from: 2, brightness: 0.25 } }),
    );
    expect(drifted.map((m) => [m.key, m.timestamp, m.headers])).toEqual(
      plain.map((m) => [m.key, m.timestamp, m.headers]),
    );
    const frames = drifted.map((m) => decode('CameraFrame', m.value));
    expect(frames.map((f) => f.encoding)).toEqual(['jpeg', 'jpeg', 'png', 'png']);
    expect(frames.slice(0, 2).map((f, i) => Buffer.from(f.data).equals(readFileSync(files[i]!)))).toEqual([true, true]);
    for (let i = 2; i < 4; i++) {
      const [a, b] = [await stats(decode('CameraFrame', plain[i]!.value)), await stats(frames[i]!)];
      expect(b.brightness - a.brightness, basename(files[i]!)).toBeGreaterThan(0.15);
    }
  });

  it('an image folder read twice gives the same event times, from the first file’s modification time', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'driftline-camtime-')), 'line-3');
    mkdirSync(dir);
    for (const n of ['crazing_1.jpg', 'crazing_2.jpg']) copyFileSync(image(n), join(dir, n));
    const mtime = new Date('2026-03-01T08:00:00.750Z');
    utimesSync(join(dir, 'crazing_1.jpg'), mtime, mtime);
    const times = async () => (await collect(readImageDirectory(dir, { fps: 10 }))).map((m) => m.timestamp);
    expect(await times()).toEqual([Date.parse('2026-03-01T08:00:00Z'), Date.parse('2026-03-01T08:00:00.100Z')]);
    expect(await times()).toEqual(await times());
  });
});
