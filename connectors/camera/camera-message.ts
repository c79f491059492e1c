import type { Message } from '../../streams/kernel/transport/transport.ts';
import type { CameraFrame } from '../../schemas/camera-frame.ts';
import { encode } from '../../schemas/registry.ts';

/** A CameraFrame as a log message: Avro value, key = camera id, timestamp = captured_at. */
export function frameMessage(frame: CameraFrame, headers?: Record<string, string>): Message {
  const message: Message = { key: frame.camera_id, value: encode('CameraFrame', frame), timestamp: frame.captured_at };
  if (headers) message.headers = headers;
  return message;
}

/** captured_at of frame `index` at `fps` frames per second from `startAt`, whole milliseconds. */
export const frameTime = (startAt: number, index: number, fps: number) => Math.round(startAt + (index * 1000) / fps);

export function checkFps(fps: number): number {
  if (!Number.isFinite(fps) || fps <= 0) throw new Error(`fps must be a positive number, got ${fps}`);
  return fps;
}
