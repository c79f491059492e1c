/**
 * `infer`: runs ONNX classifiers on a stream. Records become float32 rows (`toInput`), rows are grouped into
 * inference batches of at most `maxBatch`, and every batch runs in the inference threads (models/infer/), so the
 * event loop stays free for Kafka heartbeats and the rest of the pipeline while the model computes.
 *
 * Each input record yields `{ input, predictions }` with one Prediction per model (several models side by side);
 * records whose input is invalid (toInput throws, wrong length, NaN/Infinity) become dead letters.
 *
 * Hot swap: `swap(id, version)` loads the new version in every inference thread first, then switches between two
 * batches of this stage. A batch runs entirely on the versions active when it started, and batches of one
 * partition arrive in offset order, so the version changes at exactly one offset per partition and no record is
 * dropped or predicted twice.
 *
 * The parts: model-sessions.ts (loading, versions, swap, unloading), input-rows.ts (records → rows, dead letters for
 * bad inputs), version-segments.ts (`versionAt` runs), inference-chunks.ts (even split, running a chunk) and
 * predictions.ts (results → output records).
 */
import { type InferenceBackend, InferencePool } from '../../models/infer/worker-pool.ts';
import type { ModelRegistry } from '../../models/registry/registry.ts';
import type { Prediction } from '../../schemas/prediction.ts';
import type { StreamRecord } from '../../streams/kernel/record.ts';
import type { Stage } from '../../streams/kernel/stage.ts';
import { type Chunk, ChunkRunner, splitEvenly } from './inference-chunks.ts';
import { type RowShape, buildRows } from './input-rows.ts';
import { type Loaded, ModelSessions } from './model-sessions.ts';
import { inferredRecords } from './predictions.ts';
import { segmentsByVersion } from './version-segments.ts';

/** A model to run: its latest/production version, or a pinned one. */
export interface ModelRef {
  id: string;
  version?: string;
}

export interface ResolvedModel {
  id: string;
  version: string;
  bytes: Uint8Array;
  /** Graph input and output to use; default the driftline contract (`input`, `probabilities`). */
  inputName?: string;
  outputName?: string;
  /** 'softmax' when the output holds scores/logits rather than probabilities. Default 'none'. */
  outputActivation?: 'none' | 'softmax';
  /**
   * Weight-only INT8 (the registry's `int8` variants): fold DequantizeLinear(weights) into fp32 weights at load,
   * as `models eval` and `driftline bench` do, instead of running the dequantize on every batch.
   */
  foldDequantize?: boolean;
  /** Per-model transform of a valid row (e.g. the user model's scaling), applied in place on a copy. */
  preprocess?: (row: Float32Array) => void;
}

/**
 * A row given by its nonzero values (`values[i]` at `indices[i]`, distinct indices; every other value is 0), e.g.
 * hashed text features: a few hundred values of a 16k-wide row, so the stage need not allocate and copy the zeros.
 */
export interface SparseRow {
  /** The full row's length (must match featureShape). */
  length: number;
  indices: ArrayLike<number>;
  values: ArrayLike<number>;
}

export interface InferOptions<I> {
  models: ModelRef[];
  /** One input row per record, dense or sparse; may throw (the record becomes a dead letter with that reason). */
  toInput: (value: I, record: StreamRecord<I>) => Float32Array | ArrayLike<number> | SparseRow;
  /** Shape of one row without the batch dimension, e.g. [8] or [3, 32, 32]. */
  featureShape: number[];
  resolveModel: (ref: ModelRef) => Promise<ResolvedModel>;
  /** Upper bound on rows per inference call. Default 256. */
  maxBatch?: number;
  /**
   * What runs the models: 'onnxruntime' (default, onnxruntime-node) or 'tfjs' (the same ONNX graph executed with
   * @tensorflow/tfjs ops on the wasm backend, see models/infer/onnx-tfjs.js; a model using an op that backend lacks
   * fails to load, naming the op).
   */
  backend?: InferenceBackend;
  /** Inference threads (worker_threads). Default 1. */
  threads?: number;
  /** ONNX Runtime intra-op threads per session (onnxruntime backend). Default 1. */
  intraOpNumThreads?: number;
  /** The Prediction's record_id. Default: the record key, else topic/partition@offset. */
  recordId?: (record: StreamRecord<I>) => string;
  /**
   * Check every input value is finite (NaN/±Infinity rows become dead letters). Default true. The check is fused
   * into copying the rows into the batch (for sparse rows, their nonzeros only); turn it off only when upstream
   * already guarantees finite features.
   */
  checkFinite?: boolean;
  /** Share a pool between stages (then the caller closes it). */
  pool?: InferencePool;
  /**
   * Versions by event time: the version of `modelId` that scores a record of this event time, or undefined for the
   * stage's current one. Model B's event-time training passes the trainer's timeline here, so which version scores a
   * record depends on the record alone, not on when a fine-tune finished. Versions are loaded when first needed.
   */
  versionAt?: (modelId: string, eventTime: number) => string | undefined;
  /**
   * Called once for each version a model starts scoring with (after a swap or a new `versionAt` version), with the
   * event time of its first record.
   */
  onVersionInForce?: (modelId: string, version: string, eventTime: number) => void;
}

export interface Inferred<I> {
  input: I;
  predictions: Prediction[];
}

export interface InferStage<I> extends Stage<I, Inferred<I>> {
  /** Loads `version` of model `id` in every thread, then switches to it before the next batch. */
  swap(id: string, version: string): Promise<void>;
  /** Loads the configured models (otherwise done by the first batch). */
  ready(): Promise<void>;
  /** The versions the next batch will use, by model id. */
  versions(): Record<string, string>;
  /** Releases the sessions and (unless shared) the inference threads. */
  close(): Promise<void>;
  readonly pool: InferencePool;
}

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function infer<I>(name: string, options: InferOptions<I>): InferStage<I> {
  const shape = checkOptions(name, options);
  const maxBatch = Math.max(1, options.maxBatch ?? 256);
  const pool =
    options.pool ??
    new InferencePool({ threads: options.threads ?? 1, intraOpNumThreads: options.intraOpNumThreads ?? 1 });
  const ownsPool = options.pool === undefined;
  const recordId =
    options.recordId ??
    ((r: StreamRecord<I>) => r.key ?? `${r.position.topic}/${r.position.partition}@${r.position.offset}`);
  const sessions = new ModelSessions(name, pool, options);
  const runner = new ChunkRunner(pool, options, shape.width);

  return {
    name,
    pool,
    ready: () => sessions.ready(),
    versions: () => sessions.versions(),
    swap: (id, version) => sessions.swap(id, version),

    async onBatch(batch, out) {
      await sessions.ready();
      // The versions this whole batch uses (with `versionAt`, per record; `active` is read now, so a swap waits).
      const batchModels = sessions.current();
      const used = new Set<Loaded>();
      markUsed(used, batchModels);
      let lastModels = batchModels;
      try {
        const { rows, valid } = buildRows(batch.records, options.toInput, shape, out);
        const chunks: Chunk[] = [];
        for (const segment of await segmentsByVersion(
          valid,
          batchModels,
          options.models,
          sessions,
          options.versionAt,
        )) {
          markUsed(used, segment.models);
          lastModels = segment.models;
          sessions.noteInForce(segment.models, valid[segment.start]!.eventTime);
          chunks.push(...splitEvenly(segment, maxBatch));
        }
        await Promise.all(chunks.map((chunk) => runner.run(rows, chunk)));
        out.emit({ records: inferredRecords(valid, chunks, recordId, out), tokens: batch.tokens });
      } finally {
        for (const m of used) {
          m.users--;
          sessions.unload(m);
        }
        if (options.versionAt) sessions.retireVersionsBut(lastModels);
      }
    },

    close: () => sessions.close(ownsPool),
  };
}

/** Rejects unusable options; returns the row shape every input must have. */
function checkOptions<I>(name: string, options: InferOptions<I>): RowShape {
  if (options.models.length === 0) throw new Error(`${name}: no models`);
  const ids = options.models.map((m) => m.id);
  if (new Set(ids).size !== ids.length)
    throw new Error(`${name}: model ${ids.find((id, i) => ids.indexOf(id) !== i)} listed twice`);
  const width = product(options.featureShape);
  if (!Number.isInteger(width) || width <= 0)
    throw new Error(`${name}: featureShape [${options.featureShape.join(', ')}] is not a valid shape`);
  return {
    width,
    lengthProblem: (length) =>
      `input has ${length} values, featureShape [${options.featureShape.join(', ')}] needs ${width}`,
  };
}

/** Counts a running batch as a user of each session it scores with (once per batch), so none is unloaded under it. */
function markUsed(used: Set<Loaded>, models: Loaded[]): void {
  for (const m of models) {
    if (used.has(m)) continue;
    used.add(m);
    m.users++;
  }
}

/** Resolves refs from the model registry (production version unless pinned), verifying the artifact's sha256. */
export function registryResolver(registry: ModelRegistry): (ref: ModelRef) => Promise<ResolvedModel> {
  return async (ref) => {
    const { entry, bytes } = registry.readModel(ref.id, ref.version);
    return { id: entry.id, version: entry.version, bytes, foldDequantize: entry.precision === 'int8' };
  };
}

/**
 * Follows the registry: every `intervalMs`, swaps each model of the stage that was not pinned to the registry's
 * current production (or latest) version. Returns a function that stops watching.
 */
export function watchRegistry<I>(
  registry: ModelRegistry,
  stage: InferStage<I>,
  models: ModelRef[],
  intervalMs = 1000,
  onError?: (error: unknown) => void,
): () => void {
  const timer = setInterval(() => {
    const current = stage.versions();
    for (const ref of models) {
      if (ref.version !== undefined || current[ref.id] === undefined) continue;
      try {
        const wanted = registry.get(ref.id).version;
        if (wanted !== current[ref.id]) stage.swap(ref.id, wanted).catch((e) => onError?.(e));
      } catch (error) {
        onError?.(error);
      }
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
