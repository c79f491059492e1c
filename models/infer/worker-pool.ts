/**
 * A small pool of inference threads (models/infer/inference-worker.js). Every session is loaded in every thread, so
 * any idle thread can take the next batch; input buffers are transferred, not copied.
 */
import { Worker } from 'node:worker_threads';

export interface PoolOptions {
  /** Inference threads. Default 1. */
  threads?: number;
  /** ONNX Runtime intra-op threads per session (explicit: the default would use every core). Default 1. */
  intraOpNumThreads?: number;
  /**
   * Nice value for the inference threads (0–19; Linux applies it per thread). Default 10: under CPU contention the
   * event loop keeps priority over batch inference. 0 leaves them at normal priority.
   */
  nice?: number;
}

/**
 * What runs a model: ONNX Runtime (default), or its graph executed with tfjs ops on the wasm backend (onnx-tfjs.js).
 */
export type InferenceBackend = 'onnxruntime' | 'tfjs';

export interface InvalidRow {
  /** Row of the submitted batch. */
  row: number;
  /** First bad value's index within the row. */
  index: number;
  value: 'NaN' | 'Infinity' | '-Infinity';
}

export interface RunResult {
  /** One output row per valid input row, in order (rows listed in `invalid` are left out). */
  output: Float32Array;
  /** Input rows holding NaN or ±Infinity: the model never saw them. */
  invalid: InvalidRow[];
  dims: number[];
  /** Time the thread spent on the batch: the finiteness check plus session.run. */
  ms: number;
  /** Of which the NaN/Infinity check. */
  checkMs: number;
  /** From handing the batch to a thread until its answer arrived (excludes waiting for a free thread). */
  roundTripMs: number;
  /** Time spent waiting for a free thread. */
  queuedMs: number;
  /** The batch's buffer, handed back by the thread: give it to `release` for reuse. */
  input: ArrayBuffer;
}

interface Pending {
  resolve(value: Record<string, unknown>): void;
  reject(error: Error): void;
}

interface Job {
  key: string;
  data: Float32Array;
  dims: number[];
  checkFinite: boolean;
  queuedAt: number;
  resolve(value: RunResult): void;
  reject(error: Error): void;
}

class InferenceThread {
  readonly worker: Worker;
  busy = false;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private failure?: Error;

  constructor(nice: number) {
    this.worker = new Worker(new URL('./inference-worker.js', import.meta.url), { workerData: { nice } });
    this.worker.unref(); // an idle pool never keeps the process alive
    this.worker.on('message', (m: { id: number; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m as unknown as Record<string, unknown>);
    });
    const die = (error: Error) => {
      this.failure ??= error;
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`inference thread exited (code ${code})`)));
  }

  request(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Record<string, unknown>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }
}

const MAX_FREE_BUFFERS = 32;

export class InferencePool {
  readonly threads: number;
  readonly intraOpNumThreads: number;
  private readonly workers: InferenceThread[];
  private readonly queue: Job[] = [];
  /**
   * Input buffers the threads handed back: reusing them avoids fresh (zeroed) pages and garbage per batch. Chunks
   * differ in size by a row or so, so a buffer serves any batch it is large enough for (the thread reads `dims`).
   * `zeroed`: all zeros (its user cleared what it wrote), so sparse rows can be written without zeroing 64 KB rows.
   */
  private readonly free: { buffer: ArrayBuffer; zeroed: boolean }[] = [];
  /** Buffers `acquire` handed out: transferred whole even when the batch is a shorter view of them. */
  private readonly pooled = new WeakSet<ArrayBufferLike>();
  private closed = false;

  constructor(options: PoolOptions = {}) {
    this.threads = Math.max(1, options.threads ?? 1);
    this.intraOpNumThreads = Math.max(1, options.intraOpNumThreads ?? 1);
    const nice = Math.min(19, Math.max(0, options.nice ?? 10));
    this.workers = Array.from({ length: this.threads }, () => new InferenceThread(nice));
  }

  /** Loads a session under `key` in every thread; resolves once all of them can run it. */
  async load(
    key: string,
    bytes: Uint8Array,
    names: { inputName: string; outputName: string; backend?: InferenceBackend; foldDequantize?: boolean },
  ): Promise<{ inputNames: string[]; outputNames: string[] }> {
    const replies = await Promise.all(
      this.workers.map((w) =>
        w.request({
          type: 'load',
          key,
          bytes,
          inputName: names.inputName,
          outputName: names.outputName,
          intraOpNumThreads: this.intraOpNumThreads,
          backend: names.backend ?? 'onnxruntime',
          foldDequantize: names.foldDequantize === true,
        }),
      ),
    );
    return replies[0] as { inputNames: string[]; outputNames: string[] };
  }

  async unload(key: string): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request({ type: 'unload', key })));
  }

  /**
   * A float32 buffer of `length` values for a batch (recycled when possible): all zeros if `zeroed`, else with
   * whatever an earlier batch left in it.
   */
  acquire(length: number, zeroed = false): Float32Array {
    // The smallest free buffer that fits, unless it is more than twice the size needed (memory held for nothing);
    // among those, a zeroed one first when zeros are wanted.
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const { buffer, zeroed: clean } = this.free[i]!;
      if (buffer.byteLength < length * 4 || buffer.byteLength > length * 8) continue;
      const current = this.free[best];
      if (!current) best = i;
      else if (zeroed && clean !== current.zeroed) best = clean ? i : best;
      else if (buffer.byteLength < current.buffer.byteLength) best = i;
    }
    const found = best >= 0 ? this.free.splice(best, 1)[0]! : { buffer: new ArrayBuffer(length * 4), zeroed: true };
    this.pooled.add(found.buffer);
    // Zero the whole buffer, not just `length`: it goes back as zeroed, and may then serve a longer batch.
    if (zeroed && !found.zeroed) new Float32Array(found.buffer).fill(0);
    return new Float32Array(found.buffer, 0, length);
  }

  /** Hands a batch's buffer back (`RunResult.input`) for reuse; `zeroed` only if it holds nothing but zeros. */
  recycle(buffer: ArrayBuffer, zeroed: boolean): void {
    // Enough for the chunks of a few models in flight at once (infer hands all of a batch's chunks over together).
    if (this.free.length >= MAX_FREE_BUFFERS) this.free.shift();
    this.free.push({ buffer, zeroed });
  }

  /**
   * Runs one batch on the next idle thread; rows with NaN/±Infinity are checked for there and left out.
   * `data` is transferred: the caller must not use it afterwards.
   */
  run(key: string, data: Float32Array, dims: number[], checkFinite = true): Promise<RunResult> {
    if (this.closed) return Promise.reject(new Error('inference pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ key, data, dims, checkFinite, queuedAt: performance.now(), resolve, reject });
      this.dispatch();
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  private dispatch(): void {
    for (const w of this.workers) {
      if (this.queue.length === 0) return;
      if (w.busy) continue;
      const job = this.queue.shift()!;
      w.busy = true;
      const sentAt = performance.now();
      // A view over part of a larger buffer cannot be transferred alone: copy it into its own buffer then, unless the
      // buffer came from `acquire` (the thread reads only the batch's `dims` worth of it).
      const whole =
        job.data.byteOffset === 0 &&
        (job.data.byteLength === job.data.buffer.byteLength || this.pooled.has(job.data.buffer));
      const own = whole ? job.data : job.data.slice();
      w.request({ type: 'run', key: job.key, data: own.buffer, dims: job.dims, checkFinite: job.checkFinite }, [
        own.buffer as ArrayBuffer,
      ])
        .then(
          (m) => {
            job.resolve({
              input: m.input as ArrayBuffer,
              checkMs: m.checkMs as number,
              output: new Float32Array(m.data as ArrayBuffer),
              invalid: m.invalid as InvalidRow[],
              dims: m.dims as number[],
              ms: m.ms as number,
              roundTripMs: performance.now() - sentAt,
              queuedMs: sentAt - job.queuedAt,
            });
          },
          (error: Error) => job.reject(error),
        )
        .finally(() => {
          w.busy = false;
          this.dispatch();
        });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('inference pool closed'));
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
