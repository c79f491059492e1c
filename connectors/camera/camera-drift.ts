/**
 * A simulated camera fault, to demonstrate drift detection: from a given frame on, frames come out blurred (focus),
 * brighter or darker (lighting) and/or noisier (sensor). Applied to the pixels, as a real camera would produce them:
 * encoded frames are decoded, changed and re-encoded as PNG (lossless, so nothing but the fault changes them); raw
 * frames keep their encoding. Noise is seeded per frame (camera id and sequence), so a drifted run is reproducible
 * whatever the batching.
 */
import sharp from 'sharp';
import { rng } from '../../models/seeded-random.ts';
import type { CameraFrame } from '../../schemas/camera-frame.ts';
import { decode } from '../../schemas/registry.ts';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import { frameMessage } from './camera-message.ts';

export interface CameraDrift {
  /** The first affected frame: a frame index (the camera's sequence number) or an ISO time (captured at or after). */
  from: number | string;
  /** Added to every pixel, in [0,1] units of full scale (+0.3 = 30 % brighter), clipped to [0,1]. */
  brightness?: number;
  /** Gaussian blur, sigma in pixels of the camera frame. */
  blur?: number;
  /** Gaussian noise added to every pixel, sigma in [0,1] units. */
  noise?: number;
  /** Seed of the noise. Default 1. */
  seed?: number;
}

/** Checks a `drift` option (from a --config file), saying what is wrong. */
export function parseCameraDrift(value: unknown): CameraDrift {
  const fail = (why: string): never => {
    throw new Error(`config option "drift" ${why}, got ${JSON.stringify(value)}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail('must be an object like {"from": 900, "brightness": 0.3}');
  const { from, brightness, blur, noise, seed, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0)
    fail(`has unknown keys ${Object.keys(rest).join(', ')} (known: from, brightness, blur, noise, seed)`);
  if (typeof from === 'number') {
    if (!Number.isInteger(from) || from < 0) fail('.from must be a frame index (integer >= 0) or an ISO time');
  } else if (typeof from !== 'string' || Number.isNaN(Date.parse(from)))
    fail('.from must be a frame index (integer >= 0) or an ISO time');
  const number = (v: unknown, name: string, min: number) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < min))
      fail(`.${name} must be a number >= ${min}`);
  };
  number(brightness, 'brightness', -1);
  number(blur, 'blur', 0);
  number(noise, 'noise', 0);
  number(seed, 'seed', 0);
  if (!brightness && !blur && !noise) fail('changes nothing: give brightness, blur or noise');
  return value as CameraDrift;
}

/** Whether the fault affects this frame. */
export function isDrifted(drift: CameraDrift, frame: Pick<CameraFrame, 'sequence' | 'captured_at'>): boolean {
  return typeof drift.from === 'number' ? frame.sequence >= drift.from : frame.captured_at >= Date.parse(drift.from);
}

/** The frame as the drifted camera would have produced it (unchanged before `from`, and when it cannot be decoded). */
export async function applyCameraDrift(frame: CameraFrame, drift: CameraDrift): Promise<CameraFrame> {
  if (!isDrifted(drift, frame)) return frame;
  if (frame.encoding === 'raw_gray8' || frame.encoding === 'raw_rgb8') {
    const channels = frame.encoding === 'raw_gray8' ? 1 : 3;
    // normalize rejects it with the reason
    if (frame.data.length !== frame.width * frame.height * channels) return frame;
    return {
      ...frame,
      data: driftPixels(frame.data, frame.width, frame.height, channels, drift, noiseSeed(drift, frame)),
    };
  }
  let decoded: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    decoded = await sharp(frame.data, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
  } catch {
    return frame; // a corrupt image stays corrupt: normalize rejects it with the reason
  }
  const { width, height, channels } = decoded.info;
  const pixels = driftPixels(decoded.data, width, height, channels, drift, noiseSeed(drift, frame));
  const png = await sharp(pixels, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } })
    .png()
    .toBuffer();
  return { ...frame, encoding: 'png', width, height, channels, data: png };
}

/** Camera messages with the fault applied from `drift.from` on (headers and timestamps kept). */
export async function* withCameraDrift(
  batches: AsyncIterable<Message[]>,
  drift: CameraDrift,
): AsyncGenerator<Message[]> {
  for await (const batch of batches) {
    yield await Promise.all(
      batch.map(async (m) => {
        const frame = decode('CameraFrame', m.value) as CameraFrame;
        if (!isDrifted(drift, frame)) return m;
        return { ...frameMessage(await applyCameraDrift(frame, drift), m.headers), timestamp: m.timestamp };
      }),
    );
  }
}

/** Blur (optics), then brightness (lighting), then noise (sensor), on interleaved 8-bit pixels; a new buffer. */
function driftPixels(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  drift: CameraDrift,
  seed: number,
): Buffer {
  let values: Float32Array = Float32Array.from(src, (v) => v / 255);
  if (drift.blur) values = gaussianBlur(values, width, height, channels, drift.blur);
  const offset = drift.brightness ?? 0;
  const sigma = drift.noise ?? 0;
  const random = rng(seed);
  const out = Buffer.alloc(src.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]! + offset + (sigma ? sigma * gaussian(random) : 0);
    out[i] = Math.round(Math.min(1, Math.max(0, v)) * 255);
  }
  return out;
}

/** Standard normal variate (Box–Muller). */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Separable Gaussian blur, radius 3 sigma, edges clamped. */
function gaussianBlur(src: Float32Array, width: number, height: number, channels: number, sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = Float32Array.from({ length: 2 * radius + 1 }, (_, i) =>
    Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)),
  );
  const total = kernel.reduce((a, b) => a + b, 0);
  for (let i = 0; i < kernel.length; i++) kernel[i]! /= total;
  const pass = (input: Float32Array, horizontal: boolean) => {
    const output = new Float32Array(input.length);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        for (let c = 0; c < channels; c++) {
          let acc = 0;
          for (let k = -radius; k <= radius; k++) {
            const sx = horizontal ? Math.min(width - 1, Math.max(0, x + k)) : x;
            const sy = horizontal ? y : Math.min(height - 1, Math.max(0, y + k));
            acc += input[(sy * width + sx) * channels + c]! * kernel[k + radius]!;
          }
          output[(y * width + x) * channels + c] = acc;
        }
    return output;
  };
  return pass(pass(src, true), false);
}

/** One noise seed per frame: the drift's seed, the camera id and the sequence number. */
function noiseSeed(drift: CameraDrift, frame: Pick<CameraFrame, 'camera_id' | 'sequence'>): number {
  let h = 0x811c9dc5 ^ (drift.seed ?? 1);
  for (const ch of `${frame.camera_id}\u0000${frame.sequence}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return h >>> 0;
}
