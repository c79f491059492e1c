import avro from 'avsc';
import type { AvroType } from './avro-type.ts';

/** One image frame from a camera, raw pixels or an encoded image. */
export const CameraFrameSchema = {
  type: 'record',
  name: 'CameraFrame',
  namespace: 'driftline',
  fields: [
    { name: 'camera_id', type: 'string' },
    { name: 'sequence', type: 'long', doc: 'Monotonic frame counter per camera.' },
    { name: 'captured_at', type: 'long', doc: 'Epoch milliseconds.' },
    { name: 'width', type: 'int' },
    { name: 'height', type: 'int' },
    { name: 'channels', type: 'int' },
    {
      name: 'encoding',
      type: {
        type: 'enum',
        name: 'FrameEncoding',
        symbols: ['raw_gray8', 'raw_rgb8', 'jpeg', 'png'],
      },
    },
    { name: 'data', type: 'bytes' },
  ],
} as const;

export type CameraFrame = AvroType<typeof CameraFrameSchema>;
export type FrameEncoding = CameraFrame['encoding'];

export const CameraFrameType = avro.Type.forSchema(
  CameraFrameSchema as unknown as Parameters<typeof avro.Type.forSchema>[0],
);
