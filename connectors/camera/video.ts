/**
 * A camera source backed by ffmpeg: anything ffmpeg can open (a file, an RTSP stream, an MJPEG HTTP
 * stream, a V4L2 device) is resampled to a fixed frame rate, optionally scaled and converted to
 * gray, and piped out as raw pixels, which are cut into CameraFrame messages.
 */
import { spawn, execFile } from 'node:child_process';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import { checkFps, frameMessage, frameTime } from './camera-message.ts';

export interface VideoOptions {
  cameraId: string;
  /** Output frame rate: ffmpeg drops/duplicates frames to hit it. */
  fps: number;
  /** Output size; when only one is given the other keeps the aspect ratio. Default: the source size (probed). */
  width?: number;
  height?: number;
  /** Emit raw_gray8 (default) or raw_rgb8 when false. */
  gray?: boolean;
  /** captured_at of the first frame, epoch ms. Default: now. */
  startAt?: number;
  /** Frames per yielded batch, at most. Default 16. */
  batchSize?: number;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Extra ffmpeg input options placed before -i, e.g. ['-rtsp_transport', 'tcp']. */
  inputArgs?: string[];
}

const STDERR_TAIL = 4000;

function tail(text: string, lines = 12): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

function missingBinary(bin: string, option: string, err: NodeJS.ErrnoException): Error {
  return err.code === 'ENOENT'
    ? new Error(`${bin} not found: install ffmpeg (e.g. apt-get install ffmpeg) or pass options.${option}`, {
        cause: err,
      })
    : new Error(`could not start ${bin}: ${err.message}`, { cause: err });
}

/** Width and height of the first video stream, via ffprobe. */
export function probeVideoSize(
  input: string,
  ffprobePath = 'ffprobe',
  inputArgs: string[] = [],
): Promise<{ width: number; height: number }> {
  const args = [
    '-v',
    'error',
    ...inputArgs,
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=width,height',
    '-of',
    'csv=p=0',
    input,
  ];
  return new Promise((resolve, reject) => {
    execFile(ffprobePath, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { code?: unknown };
        if (e.code === 'ENOENT') return reject(missingBinary(ffprobePath, 'ffprobePath', e));
        return reject(new Error(`ffprobe failed on ${input}: ${tail(String(stderr)) || err.message}`, { cause: err }));
      }
      const m = /^(\d+),(\d+)/.exec(String(stdout).trim());
      if (!m)
        return reject(
          new Error(`ffprobe found no video stream in ${input} (output: ${JSON.stringify(String(stdout).trim())})`),
        );
      resolve({ width: Number(m[1]), height: Number(m[2]) });
    });
  });
}

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

export async function* readVideo(input: string, options: VideoOptions): AsyncGenerator<Message[]> {
  const fps = checkFps(options.fps);
  const gray = options.gray ?? true;
  const channels = gray ? 1 : 3;
  const startAt = options.startAt ?? Date.now();
  const batchSize = Math.max(1, options.batchSize ?? 16);
  const ffmpegPath = options.ffmpegPath ?? 'ffmpeg';
  const inputArgs = options.inputArgs ?? [];

  let { width, height } = options;
  const scale = width !== undefined || height !== undefined;
  if (width === undefined || height === undefined) {
    const src = await probeVideoSize(input, options.ffprobePath, inputArgs);
    if (width === undefined && height === undefined) ({ width, height } = src);
    else if (width === undefined) width = even((src.width * height!) / src.height);
    else height = even((src.height * width) / src.width);
  }
  const w = width!;
  const h = height!;
  if (!(w > 0 && h > 0 && w <= 8192 && h <= 8192)) throw new Error(`invalid video frame size ${w}x${h}`);

  const filters = [`fps=${fps}`];
  if (scale) filters.push(`scale=${w}:${h}`);
  filters.push(`format=${gray ? 'gray' : 'rgb24'}`);
  const args = [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    ...inputArgs,
    '-i',
    input,
    '-an',
    '-vf',
    filters.join(','),
    '-f',
    'rawvideo',
    '-pix_fmt',
    gray ? 'gray' : 'rgb24',
    'pipe:1',
  ];

  const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
  });
  let spawnError: Error | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      spawnError = missingBinary(ffmpegPath, 'ffmpegPath', err as NodeJS.ErrnoException);
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => resolve({ code, signal }));
  });

  const frameBytes = w * h * channels;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let sequence = 0;
  let finished = false;
  const cameraId = options.cameraId;
  const makeFrame = (data: Buffer): Message => {
    const index = sequence++;
    return frameMessage({
      camera_id: cameraId,
      sequence: index,
      captured_at: frameTime(startAt, index, fps),
      width: w,
      height: h,
      channels,
      encoding: gray ? 'raw_gray8' : 'raw_rgb8',
      data,
    });
  };

  try {
    let batch: Message[] = [];
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < frameBytes) continue;
      const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      let off = 0;
      while (pendingBytes - off >= frameBytes) {
        // Copy: the frame must not keep the whole chunk alive (and Avro encoding copies anyway).
        batch.push(makeFrame(Buffer.from(all.subarray(off, off + frameBytes))));
        off += frameBytes;
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
      const rest = all.subarray(off);
      pending = rest.length ? [rest] : [];
      pendingBytes = rest.length;
    }
    if (batch.length) yield batch;
    const { code, signal } = await exited;
    finished = true;
    if (spawnError) throw spawnError;
    if (code !== 0) {
      throw new Error(
        `ffmpeg exited with ${code !== null ? `code ${code}` : `signal ${signal}`} ` +
          `reading ${input}: ${tail(stderr) || '(no stderr)'}`,
      );
    }
    if (pendingBytes > 0) {
      throw new Error(
        `ffmpeg output ended inside a frame: ${pendingBytes} trailing bytes, frame size ${frameBytes} ` +
          `(${w}x${h}x${channels})`,
      );
    }
  } finally {
    if (!finished && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}
