/**
 * A "camera" that replays a directory of still images (JPEG/PNG) as a frame stream. Encoded files
 * are passed through untouched (decoding is the normalize stage's job); width/height/channels come
 * from the file header. Files that are not readable images are still emitted, so the normalize
 * stage rejects them with a reason and they end up as dead letters instead of vanishing here.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import type { FrameEncoding } from '../../schemas/camera-frame.ts';
import { tryReadImageHeader } from '../../schemas/image-header.ts';
import { checkFps, frameMessage, frameTime } from './camera-message.ts';

export interface ImageDirectoryOptions {
  /** Default: the directory's base name. */
  cameraId?: string;
  /** Frames per second used to space captured_at. Default 30. */
  fps?: number;
  /**
   * captured_at of the first frame, epoch ms. Default: the first file's modification time (whole seconds), so
   * reading the same files again gives the same event times (replays compare runs row by row).
   */
  startAt?: number;
  /** Messages per yielded batch. Default 64. */
  batchSize?: number;
  /** File extensions to read (lower case, with dot). Default .jpg .jpeg .png */
  extensions?: string[];
}

const EXTENSION_ENCODING: Record<string, FrameEncoding> = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.png': 'png' };

/**
 * `crazing_12.jpg` -> `crazing`, `rolled-in_scale_3.jpg` -> `rolled-in_scale`; null if the name has no `_<n>` suffix.
 */
export function labelFromFileName(name: string): string | null {
  const m = /^(.+)_(\d+)\.[^.]+$/.exec(basename(name));
  return m ? m[1]! : null;
}

/** Image files of `dir`, sorted by name (plain code-unit order, so the replay order is stable). */
export async function listImageFiles(dir: string, extensions = Object.keys(EXTENSION_ENCODING)): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && extensions.includes(extname(e.name).toLowerCase()))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => join(dir, name));
}

export async function* readImageDirectory(dir: string, options: ImageDirectoryOptions = {}): AsyncGenerator<Message[]> {
  yield* readImageFiles(await listImageFiles(dir, options.extensions), {
    ...options,
    cameraId: options.cameraId ?? basename(dir),
  });
}

/** Image files as one camera's frames, in the order given (sequence = position in `files`). */
export async function* readImageFiles(
  files: string[],
  options: ImageDirectoryOptions & { cameraId: string },
): AsyncGenerator<Message[]> {
  const { cameraId } = options;
  const fps = checkFps(options.fps ?? 30);
  const batchSize = Math.max(1, options.batchSize ?? 64);
  if (files.length === 0) return;
  const startAt = options.startAt ?? Math.floor((await stat(files[0]!)).mtimeMs / 1000) * 1000;

  for (let first = 0; first < files.length; first += batchSize) {
    const paths = files.slice(first, first + batchSize);
    const contents = await Promise.all(paths.map((p) => readFile(p)));
    yield contents.map((data, i) => {
      const path = paths[i]!;
      const sequence = first + i;
      const header = tryReadImageHeader(data);
      const headers: Record<string, string> = { 'frame.file': path };
      const label = labelFromFileName(path);
      if (label !== null) headers['frame.label'] = label;
      return frameMessage(
        {
          camera_id: cameraId,
          sequence,
          captured_at: frameTime(startAt, sequence, fps),
          width: header?.width ?? 0,
          height: header?.height ?? 0,
          channels: header?.channels ?? 0,
          encoding: header?.format ?? EXTENSION_ENCODING[extname(path).toLowerCase()] ?? 'jpeg',
          data,
        },
        headers,
      );
    });
  }
}
