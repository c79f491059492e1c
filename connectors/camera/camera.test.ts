import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import { decode } from '../../schemas/registry.ts';
import { dataFile } from '../../test/data-dir.ts';
import { frameStats, normalizeFrame } from '../../operators/normalize/frame.ts';
import { labelFromFileName, listImageFiles, readImageDirectory } from './image-directory.ts';
import { probeVideoSize, readVideo } from './video.ts';

const imagesDir = () => dataFile('frames', 'neu-det', 'images');

async function collect(gen: AsyncIterable<Message[]>, limit = Infinity): Promise<Message[]> {
  const out: Message[] = [];
  for await (const batch of gen) {
    out.push(...batch);
    if (out.length >= limit) break;
  }
  return out;
}

describe('readImageDirectory on NEU-DET', () => {
  // The pictures are gray, but every file is stored as a 3-component (YCbCr) JPEG: channels = 3.
  it('emits every image once, sorted, 200x200 JPEG, labelled by class', async () => {
    const start = 1_700_000_000_000;
    const messages = await collect(readImageDirectory(imagesDir(), { cameraId: 'neu', fps: 25, startAt: start }));
    expect(messages.length).toBe(1770);
    const counts: Record<string, number> = {};
    messages.forEach((m, i) => {
      const f = decode('CameraFrame', m.value);
      expect(m.key).toBe('neu');
      expect(f.sequence).toBe(i);
      expect(f.captured_at).toBe(start + i * 40);
      expect(m.timestamp).toBe(f.captured_at);
      expect([f.width, f.height, f.channels, f.encoding]).toEqual([200, 200, 3, 'jpeg']);
      const label = m.headers!['frame.label']!;
      counts[label] = (counts[label] ?? 0) + 1;
    });
    expect(counts).toEqual({
      crazing: 295,
      inclusion: 296,
      patches: 295,
      pitted_surface: 294,
      'rolled-in_scale': 295,
      scratches: 295,
    });
    const files = messages.map((m) => m.headers!['frame.file']!);
    expect(files).toEqual([...files].sort());
    const first = decode('CameraFrame', messages[0]!.value);
    expect(first.data.equals(readFileSync(files[0]!))).toBe(true);
  });

  it('parses labels from file names', () => {
    expect(labelFromFileName('/x/rolled-in_scale_12.jpg')).toBe('rolled-in_scale');
    expect(labelFromFileName('pitted_surface_3.png')).toBe('pitted_surface');
    expect(labelFromFileName('frame.jpg')).toBeNull();
  });

  describe('bad files are emitted, not thrown, and rejected downstream', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'driftline-camdir-'));
      const good = readFileSync(join(imagesDir(), 'crazing_1.jpg'));
      writeFileSync(join(dir, 'a_1.jpg'), good);
      writeFileSync(join(dir, 'b_2.jpg'), Buffer.alloc(0));
      writeFileSync(join(dir, 'c_3.jpg'), good.subarray(0, 600));
      writeFileSync(join(dir, 'd_4.png'), Buffer.from('definitely not a png'));
      writeFileSync(join(dir, 'notes.txt'), 'ignored');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('emits four frames with encoding guessed from the extension; normalize rejects three with reasons', async () => {
      const messages = await collect(readImageDirectory(dir, { batchSize: 3 }));
      expect(messages.map((m) => m.headers!['frame.label'])).toEqual(['a', 'b', 'c', 'd']);
      const frames = messages.map((m) => decode('CameraFrame', m.value));
      expect(frames.map((f) => f.encoding)).toEqual(['jpeg', 'jpeg', 'jpeg', 'png']);
      expect(frames[1]!.width).toBe(0);
      const results = await Promise.allSettled(frames.map((f) => normalizeFrame(f)));
      expect(results[0]!.status).toBe('fulfilled');
      const reasons = results.slice(1).map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'));
      expect(reasons[0]).toMatch(/empty \(0 bytes\)/);
      expect(reasons[1]).toMatch(/^JPEG data is corrupt/);
      expect(reasons[2]).toMatch(/^PNG data is corrupt: not a JPEG or PNG image/);
    });
  });
});

describe('readVideo with ffmpeg', () => {
  let dir: string;
  let video: string;
  let sources: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'driftline-video-'));
    sources = (await listImageFiles(imagesDir())).filter((p) => /\/crazing_\d+\.jpg$/.test(p)).slice(0, 60);
    // Numbered copies, so ffmpeg's image2 demuxer reads them in exactly this order.
    mkdirSync(join(dir, 'in'));
    sources.forEach((p, i) => {
      copyFileSync(p, join(dir, 'in', `f${String(i).padStart(3, '0')}.jpg`));
    });
    video = join(dir, 'crazing.mp4');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-framerate',
      '10',
      '-i',
      join(dir, 'in', 'f%03d.jpg'),
      '-frames:v',
      '60',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      '18',
      '-pix_fmt',
      'yuv420p',
      video,
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('probes the size', async () => {
    expect(await probeVideoSize(video)).toEqual({ width: 200, height: 200 });
  });

  it('yields the frames at the source rate, 200x200 gray, matching the source images', async () => {
    const messages = await collect(readVideo(video, { cameraId: 'line-3', fps: 10, startAt: 0 }));
    expect(Math.abs(messages.length - 60)).toBeLessThanOrEqual(1);
    const frames = messages.map((m) => decode('CameraFrame', m.value));
    expect(frames[0]).toMatchObject({
      camera_id: 'line-3',
      width: 200,
      height: 200,
      channels: 1,
      encoding: 'raw_gray8',
    });
    expect(frames[0]!.data.length).toBe(40_000);
    expect(frames.map((f) => f.captured_at).slice(0, 3)).toEqual([0, 100, 200]);
    expect(messages[5]!.key).toBe('line-3');
    for (let i = 0; i < Math.min(60, frames.length); i++) {
      const src = await sharp(readFileSync(sources[i]!)).greyscale().raw().toBuffer();
      const a = frameStats(src, 200, 200).brightness;
      const b = frameStats(frames[i]!.data, 200, 200).brightness;
      expect(Math.abs(a - b), `frame ${i}`).toBeLessThan(0.02);
      const corr = correlation(src, frames[i]!.data);
      expect(corr, `frame ${i}`).toBeGreaterThan(0.8);
    }
  });

  it('resamples to another fps and scales', async () => {
    const messages = await collect(readVideo(video, { cameraId: 'c', fps: 5, width: 100, height: 100 }));
    expect(Math.abs(messages.length - 30)).toBeLessThanOrEqual(1);
    const f = decode('CameraFrame', messages[0]!.value);
    expect([f.width, f.height, f.data.length]).toEqual([100, 100, 10_000]);
    const rgb = await collect(readVideo(video, { cameraId: 'c', fps: 10, gray: false }), 1);
    const g = decode('CameraFrame', rgb[0]!.value);
    expect([g.encoding, g.channels, g.data.length]).toEqual(['raw_rgb8', 3, 120_000]);
  });

  it('early return kills ffmpeg', async () => {
    const gen = readVideo(video, { cameraId: 'c', fps: 10, batchSize: 1 });
    const first = await gen.next();
    expect(first.done).toBe(false);
    expect(ffmpegReading(video).length).toBe(1);
    await gen.return(undefined);
    expect((await gen.next()).done).toBe(true);
    expect(ffmpegReading(video)).toEqual([]);
  });

  it('clear errors: missing input (with ffmpeg stderr) and missing ffmpeg', async () => {
    await expect(
      collect(readVideo(join(dir, 'nope.mp4'), { cameraId: 'c', fps: 5, width: 8, height: 8 })),
    ).rejects.toThrow(/ffmpeg exited with code 1 .*No such file or directory/s);
    await expect(
      collect(readVideo(video, { cameraId: 'c', fps: 5, width: 8, height: 8, ffmpegPath: '/nonexistent/ffmpeg' })),
    ).rejects.toThrow(/\/nonexistent\/ffmpeg not found/);
    await expect(probeVideoSize(join(dir, 'nope.mp4'))).rejects.toThrow(/ffprobe failed .*No such file/s);
  });
});

function correlation(a: Uint8Array, b: Uint8Array): number {
  const n = a.length;
  let sa = 0,
    sb = 0;
  for (let i = 0; i < n; i++) {
    sa += a[i]!;
    sb += b[i]!;
  }
  const ma = sa / n,
    mb = sb / n;
  let cov = 0,
    va = 0,
    vb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma,
      y = b[i]! - mb;
    cov += x * y;
    va += x * x;
    vb += y * y;
  }
  return cov / Math.sqrt(va * vb);
}

/** Live ffmpeg processes (of this machine) whose command line names `path`. */
function ffmpegReading(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/\bffmpeg$/.test(cmd[0] ?? '') && cmd.includes(path) && !/\) Z /.test(stat)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}
