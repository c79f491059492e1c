/**
 * Inference batches ("chunks") for `infer`: rows [start, end) of an input batch, run on one set of model versions.
 * Splits a run of rows evenly, fills a pool buffer per model (checking finiteness as it copies), runs it in the
 * inference threads and keeps each model's result (or its failure) for the chunk.
 */
import type { InferencePool } from '../../models/infer/worker-pool.ts';
import { reasonOf } from '../../streams/kernel/stage.ts';
import type { InferOptions, SparseRow } from './infer.ts';
import { type InputRow, clearSparse, copyChecked, densify, scatter } from './input-rows.ts';
import type { Loaded } from './model-sessions.ts';

export interface ModelResult {
  version: string;
  probs: Float32Array;
  classes: number;
  latency: number;
  /** Chunk row → output row, or −1 for a row the thread found invalid (see `reasons`). */
  outputRow: Int32Array;
  reasons: Map<number, string>;
}

/** Rows [start, end) of a batch, run on one set of model versions. */
export interface Chunk {
  start: number;
  end: number;
  models: Loaded[];
  results: Map<string, ModelResult | Error>;
}

/** Rows [start, end) to score with `models`, cut into chunks of at most `maxBatch` rows. */
export function splitEvenly(segment: { start: number; end: number; models: Loaded[] }, maxBatch: number): Chunk[] {
  // Even split: 300 rows with maxBatch 256 run as 150 + 150, not 256 + 44.
  const chunks: Chunk[] = [];
  const n = segment.end - segment.start;
  const count = Math.ceil(n / maxBatch);
  for (let c = 0; c < count; c++) {
    chunks.push({
      start: segment.start + Math.floor((c * n) / count),
      end: segment.start + Math.floor(((c + 1) * n) / count),
      models: segment.models,
      results: new Map(),
    });
  }
  return chunks;
}

export class ChunkRunner {
  constructor(
    private readonly pool: InferencePool,
    private readonly options: Pick<InferOptions<unknown>, 'featureShape' | 'checkFinite'>,
    /** Values per row: the product of featureShape. */
    private readonly width: number,
  ) {}

  /** Runs the chunk on each of its models at once, storing every model's result in `chunk.results`. */
  async run(rows: InputRow[], chunk: Chunk): Promise<void> {
    await Promise.all(chunk.models.map((m) => this.runModel(rows, chunk, m)));
  }

  private async runModel(rows: InputRow[], chunk: Chunk, m: Loaded): Promise<void> {
    const n = chunk.end - chunk.start;
    const check = this.options.checkFinite ?? true;
    const batch = this.fill(rows, chunk, m, check);
    // Rows found finite while copied need no scan in the thread; otherwise the thread finds and drops the bad ones.
    const checkFinite = check && !batch.finite;
    try {
      const {
        output,
        dims,
        invalid,
        input,
        roundTripMs: ms,
      } = await this.pool.run(m.key, batch.data, [n, ...this.options.featureShape], checkFinite);
      this.reuse(input, batch.sparse && !checkFinite ? batch.sparse : undefined);
      const valid = n - invalid.length;
      if (valid > 0 && (dims.length !== 2 || dims[0] !== valid))
        throw new Error(`output has shape [${dims.join(', ')}], expected [${valid}, classes]`);
      if (m.model.outputActivation === 'softmax' && valid > 0) softmaxRows(output, dims[1]!);
      const outputRow = new Int32Array(n);
      const reasons = new Map<number, string>();
      for (const bad of invalid) reasons.set(bad.row, `input has ${bad.value} at index ${bad.index}`);
      for (let i = 0, o = 0; i < n; i++) outputRow[i] = reasons.has(i) ? -1 : o++;
      chunk.results.set(m.id, {
        version: m.version,
        probs: output,
        classes: dims[1] ?? 0,
        latency: ms / n,
        outputRow,
        reasons,
      });
    } catch (error) {
      chunk.results.set(m.id, new Error(`model ${m.id}@${m.version} failed: ${reasonOf(error)}`));
    }
  }

  /**
   * The chunk's rows in a (reused) pool buffer, through the model's preprocessing if it has one. `finite`: every
   * value was checked finite on the way (`check`); `sparse`: the rows, when all were sparse and written into a zeroed
   * buffer (so clearing their nonzeros leaves it zeroed again).
   */
  private fill(rows: InputRow[], chunk: Chunk, m: Loaded, check: boolean) {
    const { width } = this;
    const n = chunk.end - chunk.start;
    const sparse = m.model.preprocess ? undefined : sparseRows(rows, chunk);
    const data = this.pool.acquire(n * width, sparse !== undefined);
    // Preprocessing may turn finite values into NaN: the thread checks its output.
    let finite = check && !m.model.preprocess;
    for (let i = 0; i < n; i++) {
      const row = rows[chunk.start + i]!;
      const offset = i * width;
      if (m.model.preprocess) {
        const copy = row instanceof Float32Array ? row.slice() : densify(row, width);
        m.model.preprocess(copy);
        data.set(copy, offset);
      } else if (row instanceof Float32Array) {
        if (check) finite = copyChecked(row, data, offset) && finite;
        else data.set(row, offset);
      } else {
        if (!sparse) data.fill(0, offset, offset + width);
        finite = scatter(row, data, offset) && finite;
      }
    }
    return { data, finite, sparse };
  }

  /** Hands a batch buffer back to the pool: zeroed again if it held only `sparse` rows the thread left in place. */
  private reuse(input: ArrayBuffer, sparse: SparseRow[] | undefined): void {
    if (sparse) clearSparse(sparse, new Float32Array(input), this.width);
    this.pool.recycle(input, sparse !== undefined);
  }
}

/** The chunk's rows if all are sparse, else undefined. */
function sparseRows(rows: InputRow[], chunk: Chunk): SparseRow[] | undefined {
  const sparse: SparseRow[] = [];
  for (let i = chunk.start; i < chunk.end; i++) {
    const row = rows[i]!;
    if (row instanceof Float32Array) return undefined;
    sparse.push(row);
  }
  return sparse;
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
