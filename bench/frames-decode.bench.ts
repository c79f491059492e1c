/**
 * Camera frame decode + resize throughput: 500 real NEU-DET JPEGs (200x200, stored as 3-component
 * JPEG) -> 64x64 gray Float32 tensors with brightness/contrast/sharpness, via `normalizeFrames`
 * (sharp/libvips on the libuv thread pool, batches run concurrently). Files are read and wrapped
 * as CameraFrames once, outside the timing. 1 warm-up + 5 repetitions per configuration; prints
 * median/min/max frames/s. Also times the synchronous raw_gray8 path (JS area resize + stats) for
 * comparison. Target on 2 cores: >= 1,000 frames/s.
 *   npx tsx bench/frames-decode.bench.ts          (data: DRIFTLINE_DATA_DIR or ../shared/data)
 *   UV_THREADPOOL_SIZE=2 npx tsx bench/frames-decode.bench.ts
 */
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import sharp from 'sharp';
import { listImageFiles } from '../connectors/camera/image-directory.ts';
import type { CameraFrame } from '../schemas/camera-frame.ts';
import { normalizeFrames, normalizeRawFrame } from '../operators/normalize/frame.ts';
import { dataFile } from '../test/data-dir.ts';
import { formatSpread, spread } from './stats.ts';

const REPS = 5;
const N = 500;
const SIZE = 64;

const all = await listImageFiles(dataFile('frames', 'neu-det', 'images'));
// 500 files spread evenly over the sorted list, so every defect class is represented.
const paths = Array.from({ length: N }, (_, i) => all[Math.floor((i * all.length) / N)]!);
const frames: CameraFrame[] = await Promise.all(
  paths.map(async (p, i) => ({
    camera_id: 'bench',
    sequence: i,
    captured_at: i,
    width: 200,
    height: 200,
    channels: 3,
    encoding: 'jpeg' as const,
    data: await readFile(p),
  })),
);
const rawFrames: CameraFrame[] = await Promise.all(
  frames.map(async (f) => ({
    ...f,
    channels: 1,
    encoding: 'raw_gray8' as const,
    data: await sharp(f.data).greyscale().raw().toBuffer(),
  })),
);

async function runEncoded(batchSize: number): Promise<number> {
  const t0 = performance.now();
  let ok = 0;
  for (let i = 0; i < frames.length; i += batchSize) {
    for (const r of await normalizeFrames(frames.slice(i, i + batchSize), { size: SIZE, gray: true })) {
      if (r instanceof Error) throw r;
      ok++;
    }
  }
  return ok / ((performance.now() - t0) / 1000);
}

function runRaw(): number {
  const t0 = performance.now();
  for (const f of rawFrames) normalizeRawFrame(f, { size: SIZE, gray: true });
  return rawFrames.length / ((performance.now() - t0) / 1000);
}

async function measure(label: string, run: () => number | Promise<number>): Promise<void> {
  await run(); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < REPS; r++) rates.push(await run());
  console.log(`${label.padEnd(44)} ${formatSpread(spread(rates), ' frames/s')}`);
}

console.log(
  `frames-decode: ${N} NEU-DET JPEGs 200x200 -> ${SIZE}x${SIZE} gray; ${cpus().length} cores; ` +
    `sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), concurrency ${sharp.concurrency()}, ` +
    `UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`,
);
for (const batch of [16, 64, N]) await measure(`jpeg  normalizeFrames, batches of ${batch}`, () => runEncoded(batch));
await measure('raw_gray8  normalizeRawFrame (sync, no decode)', runRaw);
