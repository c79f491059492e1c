import { existsSync } from 'node:fs';
import { type CameraDrift, applyCameraDrift } from '../../connectors/camera/camera-drift.ts';
import { isFrameFile, readFrameFiles } from '../../connectors/camera/frame-files.ts';
import { compositeId, type Row } from '../../connectors/warehouse/tables.ts';
import { type ScoredFrame, frameModelFeatures } from '../../models/frames/drift-features.ts';
import { weightsFromOnnx } from '../../models/frames/export.ts';
import type { ModelEntry, ModelRegistry } from '../../models/registry/registry.ts';
import { mapBatchSettled } from '../kernel/operators/basic/map-batch-settled.ts';
import { driftAlertRows, driftMetricRows } from '../../operators/drift/drift-rows.ts';
import { driftWindow, RECOMMENDED_MIN_WINDOW } from '../../operators/drift/drift-window.ts';
import { loadReferenceProfile, type ReferenceProfile } from '../../operators/drift/reference-profile.ts';
import { type Inferred, infer, registryResolver } from '../../operators/infer/infer.ts';
import { type NormalizedFrame, normalizeFrames } from '../../operators/normalize/frame.ts';
import { labelQueueRow } from '../../operators/uncertainty/label-queue-row.ts';
import { frameKey } from '../../operators/uncertainty/near-duplicate.ts';
import { type LabelQueueEntry, uncertaintySample } from '../../operators/uncertainty/uncertainty-sample.ts';
import { countWindow, tumbling, type WindowSpec } from '../kernel/operators/window/window-spec.ts';
import type { CameraFrame } from '../../schemas/camera-frame.ts';
import { decode } from '../../schemas/registry.ts';
import { createSerde } from '../../schemas/wire-format.ts';
import type { Stage } from '../kernel/stage.ts';
import { Pipeline, type Stream } from '../kernel/pipeline.ts';
import type { StreamRecord } from '../kernel/record.ts';
import { pipelineDeadLetters } from './dead-letters.ts';
import { type FramesOptions, framesOptionRules } from './frames-options.ts';
import { type PipelineContext, type PipelineDefinition, topicName } from './pipeline-definition.ts';
import { predictionRow } from './prediction-rows.ts';
import { newRunId } from './run-metrics.ts';

export interface FrameFacts {
  frame: CameraFrame;
  normalized: NormalizedFrame;
}

/** A frame's id: the `frames` row id, and the record id of its predictions. */
export const frameId = (frame: Pick<CameraFrame, 'camera_id' | 'sequence'>) =>
  compositeId(frame.camera_id, frame.sequence);

/** The `frames` warehouse row: metadata and image statistics, never pixels. */
export const frameRow = (r: StreamRecord<FrameFacts>) => {
  const { frame, normalized } = r.value;
  return {
    id: frameId(frame),
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
  if (!url)
    return mapBatchSettled('decode', async (values: Buffer[]) =>
      values.map((v) => decodeOrError(() => decode('CameraFrame', v) as CameraFrame)),
    );
  const serde = createSerde('CameraFrame', { schemaRegistryUrl: url, topic: topicName(context, 'frames') });
  return mapBatchSettled('decode', (values: Buffer[]) =>
    Promise.all(
      values.map((v) =>
        v[0] === 0
          ? serde.decode(v).catch((e: Error) => e)
          : decodeOrError(() => decode('CameraFrame', v) as CameraFrame),
      ),
    ),
  );
}

function decodeOrError<T>(fn: () => T): T | Error {
  try {
    return fn();
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** The frame CNN versions a run uses: fp32, its int8 variant when there is one, and what they were trained on. */
interface FrameModels {
  registry: ModelRegistry;
  fp32: ModelEntry;
  int8: ModelEntry | null;
  /** Input side length and class names, from the fp32 model's metadata. */
  size: number;
  classes: string[];
  /** The fp32 version's held-out frames with its predictions; null for versions trained before profiles were kept. */
  reference: ReferenceProfile | null;
}

const ref = (e: ModelEntry) => `${e.id}@${e.version}`;
const say = (line: string) => process.stderr.write(`frames: ${line}\n`);

/**
 * fp32: the production version (or its fp32 parent when a variant was promoted), else the latest fp32 version;
 * int8: the latest int8 variant of that fp32 version. Why there are none, when there are none.
 */
function findFrameModels(registry: ModelRegistry, id: string): FrameModels | string {
  const versions = registry.list(id);
  const fp32s = versions.filter((v) => v.precision === 'fp32');
  const production = versions.find((v) => v.stage === 'production');
  const fp32 = fp32s.find((v) => v === production || ref(v) === production?.parent) ?? fp32s.at(-1);
  if (!fp32) return `no fp32 ${id} model in the registry (${registry.manifestPath})`;
  // The manifest is committed, artifacts are not: a fresh checkout lists versions it does not have.
  if (!existsSync(registry.path(fp32)))
    return `${ref(fp32)} is registered but its artifact ${registry.path(fp32)} is not here`;
  const int8 =
    versions.filter((v) => v.precision === 'int8' && v.parent === ref(fp32) && existsSync(registry.path(v))).at(-1) ??
    null;
  const { weights } = weightsFromOnnx(registry.readModel(fp32.id, fp32.version).bytes);
  let reference: ReferenceProfile | null = null;
  try {
    reference = loadReferenceProfile(registry.path(fp32));
  } catch {
    // trained before reference profiles were stored: inference runs, drift monitoring does not
  }
  return { registry, fp32, int8, size: weights.size, classes: weights.classes, reference };
}

/** Which frame CNN versions to run, with one line saying what runs (or that inference is off and how to enable it). */
function frameModels(context: PipelineContext<FramesOptions>): FrameModels | null {
  const id = context.options.model ?? 'frames-cnn';
  const models = findFrameModels(context.models, id);
  if (typeof models === 'string') {
    say(
      `inference is off: ${models}; frames are only normalized and stored. Enable it with \`driftline models train ` +
        `frames\` (and \`driftline models quantize ${id} --precision int8\` to run int8 beside fp32)`,
    );
    return null;
  }
  const { fp32, int8, reference } = models;
  say(
    int8
      ? `inference with ${ref(fp32)} (fp32) and ${ref(int8)} (int8) side by side`
      : `inference with ${ref(fp32)} (fp32) only: it has no int8 variant (\`driftline models quantize ${id} ` +
          `--version ${fp32.version} --precision int8\`)`,
  );
  if (!reference)
    say(
      `drift monitoring is off: no reference profile beside ${ref(fp32)} (retrain with \`driftline models train ` +
        `frames\`)`,
    );
  return models;
}

/** One model on frames: `T` is what earlier stages made of the frame (`frameOf` finds it); adds `predictions`. */
function frameInfer<T>(
  p: Pipeline,
  name: string,
  model: ModelEntry,
  models: FrameModels,
  frameOf: (value: T) => FrameFacts,
) {
  const stage = infer<T>(name, {
    models: [{ id: model.id, version: model.version }],
    toInput: (value) => frameOf(value).normalized.tensor,
    featureShape: [1, models.size, models.size],
    resolveModel: registryResolver(models.registry),
    recordId: (record) => frameId(frameOf(record.value).frame),
  });
  p.onClose(() => stage.close());
  return stage;
}

/**
 * fp32 and int8 on the same frames: each record gets both predictions (fp32 first). Two infer stages, because one
 * `infer` keys its models by id and both versions are `frames-cnn`; a frame either model fails on is a dead letter,
 * so both predictions always exist for exactly the same frames.
 */
function predict(p: Pipeline, frames: Stream<FrameFacts>, models: FrameModels): Stream<Inferred<FrameFacts>> {
  const fp32 = frames.through(frameInfer<FrameFacts>(p, 'infer-fp32', models.fp32, models, (v) => v));
  if (!models.int8) return fp32;
  return fp32
    .through(frameInfer<Inferred<FrameFacts>>(p, 'infer-int8', models.int8, models, (v) => v.input))
    .map('side-by-side', (v) => ({ input: v.input.input, predictions: [...v.input.predictions, ...v.predictions] }));
}

/**
 * Drift and labelling windows: count windows of `driftWindowFrames` (default 500), or `driftWindowSeconds` of event
 * time.
 */
function windowsOf(options: FramesOptions): { window: WindowSpec; minWindowSize: number; label: string } {
  const seconds = options.driftWindowSeconds;
  if (seconds !== undefined) {
    return {
      window: tumbling(seconds * 1000),
      minWindowSize: options.driftMinWindow ?? RECOMMENDED_MIN_WINDOW,
      label: `${seconds} s windows`,
    };
  }
  const frames = options.driftWindowFrames ?? 500;
  return {
    window: countWindow(frames),
    minWindowSize: options.driftMinWindow ?? frames,
    label: `windows of ${frames} frames`,
  };
}

/** The fault of a `drift` option applied where frames enter the pipeline, as if the camera itself had drifted. */
function cameraDrift(drift: CameraDrift): Stage<CameraFrame, CameraFrame> {
  return mapBatchSettled('camera-drift', (frames) => Promise.all(frames.map((f) => applyCameraDrift(f, drift))));
}

/**
 * camera frames → decode → [camera drift] → normalize (grey, tensor, brightness/contrast/sharpness) ─→ warehouse.frames
 *                   ↘ dead letters           │
 *    (with a frames-cnn model registered)    └→ infer fp32, infer int8 (same frames)
 *                                                 ├→ warehouse.predictions (a row per model)
 *                                                 │  on the fp32 prediction:
 *                                                 ├→ uncertainty-sample, pHash dedup → warehouse.label_queue
 *                                                 └→ drift-window vs the fp32 version's reference profile
 *                                                    (brightness, contrast, sharpness, predicted class)
 *                                                    → warehouse.drift_metrics, warehouse.drift_alerts
 * Options and the camera fault (`drift`): README.md.
 */
export const framesPipeline: PipelineDefinition<FramesOptions> = {
  name: 'frames',
  description:
    'Camera frames → decoded, resized, measured → frame statistics; with a frames-cnn model: fp32 and int8 ' +
    'predictions, a label queue, drift',
  inputTopic: 'frames',
  partitions: 4,
  valueSchema: 'CameraFrame',
  options: framesOptionRules,
  acceptsFile: isFrameFile,
  // `produce --config` with a `drift` publishes frames as the drifted camera would have sent them.
  read: (files, produceOptions = {}) =>
    readFrameFiles(files, produceOptions.drift === undefined ? {} : { drift: produceOptions.drift }),
  build(source, context) {
    const { options } = context;
    const models = frameModels(context);
    const size = options.size ?? models?.size ?? 64;
    if (models && size !== models.size)
      throw new Error(
        `config option "size" is ${size}, but ${ref(models.fp32)} takes ${models.size}×${models.size} frames`,
      );
    const runId = context.runId ?? newRunId();
    const p = new Pipeline('frames').deadLetters(pipelineDeadLetters(context, 'frames'));

    let frames = p.from(source).through(decodeFrames(context));
    if (options.drift !== undefined) frames = frames.through(cameraDrift(options.drift));
    const normalized = frames.through(
      mapBatchSettled<CameraFrame, FrameFacts>('normalize', async (batch) => {
        const results = await normalizeFrames(batch, { size, gray: true });
        return results.map((n, i) => (n instanceof Error ? n : { frame: batch[i]!, normalized: n }));
      }),
    );
    normalized.to(context.warehouse.sink<FrameFacts>('frames', frameRow));
    if (!models) return p;

    const predicted = predict(p, normalized, models);
    predicted
      .flatMap('prediction-rows', (v, r) => v.predictions.map((pr) => predictionRow(pr, r.eventTime)))
      .to(context.warehouse.sink<Row>('predictions', (r) => r.value));

    const { window, minWindowSize, label } = windowsOf(options);
    predicted
      .through(
        uncertaintySample<Inferred<FrameFacts>>('to-label', {
          pipeline: 'frames',
          prediction: (v) => v.predictions[0]!,
          window,
          budget: options.labelBudget ?? 20,
          dedupKey: (v) => frameKey(v.input.normalized),
          payloadRef: (r) => `frames/${frameId(r.value.input.frame)}`,
        }),
      )
      .to(context.warehouse.sink<LabelQueueEntry>('label_queue', (r) => labelQueueRow(r.value)));

    if (!models.reference) return p;
    say(`drift against ${ref(models.fp32)}'s reference profile (${models.reference.rows} held-out frames), ${label}`);
    const drift = predicted
      .map(
        'scored-frame',
        (v): ScoredFrame => ({
          ...pickStats(v.input.normalized),
          predictedClass: models.classes[v.predictions[0]!.label] ?? String(v.predictions[0]!.label),
        }),
      )
      .through(
        driftWindow<ScoredFrame>('drift', {
          pipeline: 'frames',
          reference: models.reference,
          features: frameModelFeatures,
          window,
          minWindowSize,
        }),
      );
    drift
      .flatMap('drift-metric-rows', (r) => driftMetricRows(r, runId))
      .to(context.warehouse.sink<Row>('drift_metrics', (r) => r.value));
    drift
      .flatMap('drift-alert-rows', (r) => driftAlertRows(r, runId))
      .to(context.warehouse.sink<Row>('drift_alerts', (r) => r.value));
    return p;
  },
};

const pickStats = ({ brightness, contrast, sharpness }: NormalizedFrame) => ({ brightness, contrast, sharpness });
