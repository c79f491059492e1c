import { isFrameFile, readFrameFiles } from '../../connectors/camera/frame-files.ts';
import { compositeId } from '../../connectors/warehouse/tables.ts';
import { mapBatchSettled } from '../../operators/basic/map-batch-settled.ts';
import { type NormalizedFrame, normalizeFrames } from '../../operators/normalize/frame.ts';
import type { CameraFrame } from '../../schemas/camera-frame.ts';
import { decode } from '../../schemas/registry.ts';
import { createSerde } from '../../schemas/wire-format.ts';
import type { Stage } from '../stage.ts';
import { Pipeline } from '../pipeline.ts';
import type { StreamRecord } from '../record.ts';
import { pipelineDeadLetters } from './dead-letters.ts';
import { type PipelineContext, type PipelineDefinition, numberOption, topicName } from './pipeline-definition.ts';

export interface FrameFacts {
  frame: CameraFrame;
  normalized: NormalizedFrame;
}

/** The `frames` warehouse row: metadata and image statistics, never pixels. */
export const frameRow = (r: StreamRecord<FrameFacts>) => {
  const { frame, normalized } = r.value;
  return {
    id: compositeId(frame.camera_id, frame.sequence),
    version: 0,
    camera_id: frame.camera_id,
    sequence: frame.sequence,
    captured_at: frame.captured_at,
    width: frame.width,
    height: frame.height,
    channels: frame.channels,
    encoding: frame.encoding,
    brightness: normalized.brightness,
    contrast: normalized.contrast,
    sharpness: normalized.sharpness,
    label: r.headers['frame.label'] ?? null,
    file: r.headers['frame.file'] ?? null,
  };
};

/**
 * Avro CameraFrame bytes → record. With a Schema Registry, Confluent-framed values (magic byte 0, schema id) are
 * decoded through it; plain Avro (files read with --input, topics written without a registry) directly. A plain
 * CameraFrame never starts with byte 0: that would be an empty camera id, which no camera source writes.
 */
function decodeFrames(context: PipelineContext): Stage<Buffer, CameraFrame> {
  const url = context.settings.schemaRegistryUrl;
  if (!url) return mapBatchSettled('decode', async (values: Buffer[]) => values.map((v) => decodeOrError(() => decode('CameraFrame', v) as CameraFrame)));
  const serde = createSerde('CameraFrame', { schemaRegistryUrl: url, topic: topicName(context, 'frames') });
  return mapBatchSettled('decode', (values: Buffer[]) =>
    Promise.all(values.map((v) => (v[0] === 0 ? serde.decode(v).catch((e: Error) => e) : decodeOrError(() => decode('CameraFrame', v) as CameraFrame)))),
  );
}

function decodeOrError<T>(fn: () => T): T | Error {
  try {
    return fn();
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * camera frames (image folders, videos) → decode → normalize (grey, 64×64 tensor, brightness/contrast/sharpness)
 *                                                 ↘ dead letters                      → warehouse.frames
 */
export const framesPipeline: PipelineDefinition = {
  name: 'frames',
  description: 'Camera frames → decoded, resized, measured → frame metadata and statistics in the warehouse',
  inputTopic: 'frames',
  partitions: 4,
  valueSchema: 'CameraFrame',
  acceptsFile: isFrameFile,
  read: (files) => readFrameFiles(files),
  build(source, context) {
    const size = numberOption(context.options, 'size', 64);
    const p = new Pipeline('frames').deadLetters(pipelineDeadLetters(context, 'frames'));
    p.from(source)
      .through(decodeFrames(context))
      .through(
        mapBatchSettled<CameraFrame, FrameFacts>('normalize', async (frames) => {
          const normalized = await normalizeFrames(frames, { size, gray: true });
          return normalized.map((n, i) => (n instanceof Error ? n : { frame: frames[i]!, normalized: n }));
        }),
      )
      .to(context.warehouse.sink<FrameFacts>('frames', frameRow, { deadLetters: 'table' }));
    return p;
  },
};
