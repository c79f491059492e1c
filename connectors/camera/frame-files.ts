import { basename, dirname, extname } from 'node:path';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import { type CameraDrift, withCameraDrift } from './camera-drift.ts';
import { readImageDirectory } from './image-directory.ts';
import { readVideo } from './video.ts';

const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'];
const VIDEO_EXTENSIONS = ['.mp4', '.avi', '.mkv', '.mov', '.webm', '.mjpeg'];

export const isFrameFile = (file: string) =>
  [...IMAGE_EXTENSIONS, ...VIDEO_EXTENSIONS].includes(extname(file).toLowerCase());

export interface FrameFilesOptions {
  /** Frame rate that spaces captured_at for image folders and samples videos. Default 30 for images, 10 for videos. */
  fps?: number;
  /** captured_at of the first frame. Default: the first image's modification time (folders), now (videos). */
  startAt?: number;
  /** A simulated camera fault from a given frame on (lighting, blur, noise), see camera-drift.ts. */
  drift?: CameraDrift;
}

/**
 * Camera input files as frame messages: each folder of images is one camera (its name is the camera id), each video
 * file another (decoded to grey frames by ffmpeg).
 */
export function readFrameFiles(files: string[], options: FrameFilesOptions = {}): AsyncGenerator<Message[]> {
  return options.drift ? withCameraDrift(readCameras(files, options), options.drift) : readCameras(files, options);
}

async function* readCameras(files: string[], options: FrameFilesOptions): AsyncGenerator<Message[]> {
  const folders = [
    ...new Set(files.filter((f) => IMAGE_EXTENSIONS.includes(extname(f).toLowerCase())).map((f) => dirname(f))),
  ];
  for (const dir of folders) yield* readImageDirectory(dir, { fps: options.fps ?? 30, startAt: options.startAt });
  for (const video of files.filter((f) => VIDEO_EXTENSIONS.includes(extname(f).toLowerCase()))) {
    yield* readVideo(video, {
      cameraId: basename(video, extname(video)),
      fps: options.fps ?? 10,
      gray: true,
      startAt: options.startAt,
    });
  }
}
