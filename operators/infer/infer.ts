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
 */
import { INPUT_NAME, OUTPUT_NAME } from '../../models/model-contract.ts';
import { type InferenceBackend, InferencePool } from '../../models/infer/worker-pool.ts';
import type { ModelRegistry } from '../../models/registry/registry.ts';
import type { Prediction } from '../../schemas/prediction.ts';
import { type StreamRecord, withValue } from '../../streams/record.ts';
import { type Stage, reasonOf } from '../../streams/stage.ts';

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
   * Check every input value is finite (NaN/±Infinity rows become dead letters). Default true. The check is a pass
   * over all values in the inference thread; turn it off only when upstream already guarantees finite features.
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
  /** Called once for each version a model starts scoring with (after a swap or a new `versionAt` version), with the event time of its first record. */
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

interface Loaded {
  id: string;
  version: string;
  key: string;
  model: ResolvedModel;
  /** Batches currently running on this session. */
  users: number;
  retired: boolean;
}

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function infer<I>(name: string, options: InferOptions<I>): InferStage<I> {
  if (options.models.length === 0) throw new Error(`${name}: no models`);
  const ids = options.models.map((m) => m.id);
  if (new Set(ids).size !== ids.length) throw new Error(`${name}: model ${ids.find((id, i) => ids.indexOf(id) !== i)} listed twice`);
  const width = product(options.featureShape);
  if (!Number.isInteger(width) || width <= 0) throw new Error(`${name}: featureShape [${options.featureShape.join(', ')}] is not a valid shape`);
  const maxBatch = Math.max(1, options.maxBatch ?? 256);
  const pool = options.pool ?? new InferencePool({ threads: options.threads ?? 1, intraOpNumThreads: options.intraOpNumThreads ?? 1 });
  const ownsPool = options.pool === undefined;
  const lengthProblem = (length: number) => `input has ${length} values, featureShape [${options.featureShape.join(', ')}] needs ${width}`;
  const recordId = options.recordId ?? ((r: StreamRecord<I>) => r.key ?? `${r.position.topic}/${r.position.partition}@${r.position.offset}`);

  /** model id → the session new batches use (in `options.models` order). */
  const active = new Map<string, Loaded>();
  let loads = 0;
  let swaps: Promise<void> = Promise.resolve();

  const load = async (ref: ModelRef): Promise<Loaded> => {
    const model = await options.resolveModel(ref);
    if (model.id !== ref.id) throw new Error(`${name}: resolving ${ref.id} gave model ${model.id}`);
    const key = `${name}/${model.id}@${model.version}#${loads++}`;
    await pool.load(key, model.bytes, { inputName: model.inputName ?? INPUT_NAME, outputName: model.outputName ?? OUTPUT_NAME, backend: options.backend ?? 'onnxruntime', foldDequantize: model.foldDequantize });
    return { id: model.id, version: model.version, key, model, users: 0, retired: false };
  };

  const release = (loaded: Loaded) => {
    if (loaded.retired && loaded.users === 0) pool.unload(loaded.key).catch(() => {});
  };

  let initializing: Promise<void> | undefined;
  const ready = () =>
    (initializing ??= (async () => {
      const loaded = await Promise.all(options.models.map(load));
      for (const l of loaded) active.set(l.id, l);
    })());

  interface ModelResult {
    version: string;
    probs: Float32Array;
    classes: number;
    latency: number;
    /** Chunk row → output row, or −1 for a row the thread found invalid (see `reasons`). */
    outputRow: Int32Array;
    reasons: Map<number, string>;
  }
  /** Rows [start, end) of a batch, run on one set of model versions. */
  type Chunk = { start: number; end: number; models: Loaded[]; results: Map<string, ModelResult | Error> };

  /** Sessions loaded for `versionAt` versions, by `id@version`. */
  const byVersion = new Map<string, Loaded>();
  const loadVersion = async (id: string, version: string): Promise<Loaded> => {
    const key = `${id}@${version}`;
    let loaded = byVersion.get(key);
    if (!loaded) byVersion.set(key, (loaded = await load({ id, version })));
    return loaded;
  };
  /** Keeps only the versions the last record used: event time moves forward, so older versions are done with. */
  const retireVersionsBut = (keep: Loaded[]) => {
    for (const [key, loaded] of byVersion) {
      if (keep.includes(loaded)) continue;
      byVersion.delete(key);
      loaded.retired = true;
      release(loaded);
    }
  };
  /** The version `versionAt` names for each configured model (undefined: the active one). */
  const versionsOf = (record: StreamRecord<I>) => options.models.map((ref) => (ref.version === undefined ? options.versionAt!(ref.id, record.eventTime) : undefined));
  const sessionsFor = (versions: (string | undefined)[]): Promise<Loaded[]> =>
    Promise.all(
      options.models.map(async (ref, j) => {
        const current = active.get(ref.id)!;
        const version = versions[j];
        return version === undefined || version === current.version ? current : loadVersion(ref.id, version);
      }),
    );
  /** Last version seen scoring, by model id, for `onVersionInForce`. */
  const inForce = new Map<string, string>();
  const noteInForce = (models: Loaded[], eventTime: number) => {
    for (const m of models) {
      if (inForce.get(m.id) === m.version) continue;
      inForce.set(m.id, m.version);
      options.onVersionInForce?.(m.id, m.version, eventTime);
    }
  };

  const runChunk = async (rows: (Float32Array | SparseRow)[], chunk: Chunk) => {
    const models = chunk.models;
    const n = chunk.end - chunk.start;
    // Sparse rows with finite values are finite throughout (the rest is 0): no need for the thread's dense scan then.
    let checkFinite = options.checkFinite ?? true;
    if (checkFinite && rows.slice(chunk.start, chunk.end).every((row) => isSparse(row) && finiteValues(row.values))) checkFinite = false;
    await Promise.all(
      models.map(async (m) => {
        const data = pool.acquire(n * width);
        for (let i = 0; i < n; i++) {
          const row = rows[chunk.start + i]!;
          if (m.model.preprocess) {
            const copy = row instanceof Float32Array ? row.slice() : densify(row, width);
            m.model.preprocess(copy);
            data.set(copy, i * width);
          } else if (row instanceof Float32Array) data.set(row, i * width);
          else scatter(row, data, i * width, width);
        }
        try {
          const { output, dims, invalid, roundTripMs: ms } = await pool.run(m.key, data, [n, ...options.featureShape], checkFinite);
          const valid = n - invalid.length;
          if (valid > 0 && (dims.length !== 2 || dims[0] !== valid)) throw new Error(`output has shape [${dims.join(', ')}], expected [${valid}, classes]`);
          if (m.model.outputActivation === 'softmax' && valid > 0) softmaxRows(output, dims[1]!);
          const outputRow = new Int32Array(n);
          const reasons = new Map<number, string>();
          for (const bad of invalid) reasons.set(bad.row, `input has ${bad.value} at index ${bad.index}`);
          for (let i = 0, o = 0; i < n; i++) outputRow[i] = reasons.has(i) ? -1 : o++;
          chunk.results.set(m.id, { version: m.version, probs: output, classes: dims[1] ?? 0, latency: ms / n, outputRow, reasons });
        } catch (error) {
          chunk.results.set(m.id, new Error(`model ${m.id}@${m.version} failed: ${reasonOf(error)}`));
        }
      }),
    );
  };

  /** Consecutive records scored by the same versions. Without `versionAt`, one segment: the batch's versions. */
  const segmentsByVersion = async (records: StreamRecord<I>[], batchModels: Loaded[]) => {
    if (!options.versionAt || records.length === 0) return [{ start: 0, end: records.length, models: batchModels }];
    const segments: { start: number; end: number; models: Loaded[] }[] = [];
    let key = '';
    for (let i = 0; i < records.length; i++) {
      const versions = versionsOf(records[i]!);
      const next = versions.join('\u0000');
      if (segments.length > 0 && next === key) segments.at(-1)!.end = i + 1;
      else segments.push({ start: i, end: i + 1, models: await sessionsFor(versions) });
      key = next;
    }
    return segments;
  };

  const stage: InferStage<I> = {
    name,
    pool,
    ready,
    versions: () => Object.fromEntries([...active.values()].map((l) => [l.id, l.version])),

    swap(id, version) {
      if (!ids.includes(id)) return Promise.reject(new Error(`${name}: model ${id} is not one of ${ids.join(', ')}`));
      const next = swaps.then(async () => {
        await ready();
        const current = active.get(id)!;
        if (current.version === version) return;
        const loaded = await load({ id, version });
        // Atomic with respect to batches: onBatch takes its snapshot of `active` synchronously when it starts.
        active.set(id, loaded);
        current.retired = true;
        release(current);
      });
      swaps = next.catch(() => {});
      return next;
    },

    async onBatch(batch, out) {
      await ready();
      // The versions this whole batch uses (with `versionAt`, per record; `active` is read now, so a swap waits).
      const batchModels = options.models.map((ref) => active.get(ref.id)!);
      const used = new Set<Loaded>(batchModels);
      for (const m of used) m.users++;
      let lastModels = batchModels;
      try {
        const rows: (Float32Array | SparseRow)[] = [];
        const valid: StreamRecord<I>[] = [];
        for (const record of batch.records) {
          let row: Float32Array | ArrayLike<number> | SparseRow;
          try {
            row = options.toInput(record.value, record);
          } catch (error) {
            out.deadLetter(record, new Error(`toInput failed: ${reasonOf(error)}`));
            continue;
          }
          // Lengths are checked here; finiteness in the inference thread (an O(rows × features) scan), except for
          // chunks of sparse rows, whose few values runChunk checks itself.
          const problem = row == null ? 'toInput returned no row' : row.length !== width ? lengthProblem(row.length) : isSparse(row) ? sparseProblem(row, width) : null;
          if (problem) {
            out.deadLetter(record, new Error(problem));
            continue;
          }
          rows.push(row instanceof Float32Array || isSparse(row) ? row : Float32Array.from(row as ArrayLike<number>));
          valid.push(record);
        }

        const chunks: Chunk[] = [];
        for (const segment of await segmentsByVersion(valid, batchModels)) {
          for (const m of segment.models) {
            if (used.has(m)) continue;
            used.add(m);
            m.users++;
          }
          lastModels = segment.models;
          noteInForce(segment.models, valid[segment.start]!.eventTime);
          // Even split: 300 rows with maxBatch 256 run as 150 + 150, not 256 + 44.
          const n = segment.end - segment.start;
          const count = Math.ceil(n / maxBatch);
          for (let c = 0; c < count; c++) {
            chunks.push({ start: segment.start + Math.floor((c * n) / count), end: segment.start + Math.floor(((c + 1) * n) / count), models: segment.models, results: new Map() });
          }
        }
        await Promise.all(chunks.map((chunk) => runChunk(rows, chunk)));

        const output: StreamRecord<Inferred<I>>[] = [];
        const now = Date.now();
        for (const chunk of chunks) {
          for (let i = chunk.start; i < chunk.end; i++) {
            const record = valid[i]!;
            const models = chunk.models;
            const results = models.map((m) => chunk.results.get(m.id)!);
            const failed = results.find((r) => r instanceof Error) as Error | undefined;
            if (failed) {
              out.deadLetter(record, failed);
              continue;
            }
            const invalid = (results as ModelResult[]).find((r) => r.outputRow[i - chunk.start]! < 0);
            if (invalid) {
              out.deadLetter(record, new Error(invalid.reasons.get(i - chunk.start)));
              continue;
            }
            const id = recordId(record);
            const predictions: Prediction[] = models.map((m, j) => {
              const r = results[j] as ModelResult;
              const offset = r.outputRow[i - chunk.start]! * r.classes;
              const probabilities = Array.from(r.probs.subarray(offset, offset + r.classes));
              let label = 0;
              for (let k = 1; k < probabilities.length; k++) if (probabilities[k]! > probabilities[label]!) label = k;
              return {
                record_id: id,
                model_id: m.id,
                model_version: r.version,
                label,
                probabilities,
                confidence: probabilities[label]!,
                latency_ms: r.latency,
                predicted_at: now,
              };
            });
            output.push(withValue(record, { input: record.value, predictions }));
          }
        }
        out.emit({ records: output, tokens: batch.tokens });
      } finally {
        for (const m of used) {
          m.users--;
          release(m);
        }
        if (options.versionAt) retireVersionsBut(lastModels);
      }
    },

    async close() {
      await swaps;
      if (ownsPool) await pool.close();
      else await Promise.all([...active.values(), ...byVersion.values()].map((l) => pool.unload(l.key)));
      active.clear();
      byVersion.clear();
    },
  };
  return stage;
}

const isSparse = (row: Float32Array | ArrayLike<number> | SparseRow): row is SparseRow => (row as SparseRow).indices !== undefined;

/** Why a sparse row is unusable, or null. */
function sparseProblem(row: SparseRow, width: number): string | null {
  if (row.indices.length !== row.values.length) return `sparse input has ${row.indices.length} indices but ${row.values.length} values`;
  for (let i = 0; i < row.indices.length; i++) {
    const k = row.indices[i]!;
    if (!Number.isInteger(k) || k < 0 || k >= width) return `sparse input index ${k} is outside [0, ${width})`;
  }
  return null;
}

/** Every value finite as a float32 (1e39 is a finite number but Infinity once stored in the batch). */
function finiteValues(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(Math.fround(values[i]!))) return false;
  return true;
}

/** Writes a sparse row into `data` at `offset`: zeros, then its values (the pool's buffers are not zeroed). */
function scatter(row: SparseRow, data: Float32Array, offset: number, width: number): void {
  data.fill(0, offset, offset + width);
  for (let i = 0; i < row.indices.length; i++) data[offset + row.indices[i]!] = row.values[i]!;
}

function densify(row: SparseRow, width: number): Float32Array {
  const dense = new Float32Array(width);
  scatter(row, dense, 0, width);
  return dense;
}

function softmaxRows(data: Float32Array, classes: number): void {
  for (let r = 0; r < data.length; r += classes) {
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, data[r + k]!);
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += data[r + k] = Math.exp(data[r + k]! - max);
    for (let k = 0; k < classes; k++) data[r + k]! /= sum;
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
export function watchRegistry<I>(registry: ModelRegistry, stage: InferStage<I>, models: ModelRef[], intervalMs = 1000, onError?: (error: unknown) => void): () => void {
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
