import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type StreamRecord, withValue } from './record.ts';
import type { Batch, Stage, StageOutput } from './stage.ts';

/**
 * A map stage whose per-record function runs on a pool of worker threads, so per-record CPU work (normalizing text,
 * featurizing, decoding frames) leaves the main thread, which only routes batches. The function must be pure: it is
 * given as a module and an export name, loaded by every thread, and sees only the record's value (structured-cloned
 * to the thread; ArrayBuffers its results own are transferred back, not copied). Each batch is cut into one chunk per
 * thread and put back together in order, so order within a partition is kept; a record whose function throws becomes
 * a dead letter with the reason, the rest carry on; the batch's acknowledgement tokens pass on once, as for `map`.
 * Other stages keep running on the main thread while the threads work.
 */
export interface ParallelMapOptions {
  /** The module exporting the function: an absolute path or a file URL. */
  module: string | URL;
  /** Name of the export: `(value) => result`, synchronous. */
  exportName: string;
  /** Worker threads; 0 runs the function on the main thread (same results). Default `defaultMapThreads()`. */
  threads?: number;
}

export interface ParallelMapStage<I, O> extends Stage<I, O> {
  /** Stops the threads (idle threads never keep the process alive, but a pipeline closes what it started). */
  close(): Promise<void>;
}

type Outcome = { ok: unknown } | { error: string };

/** Cores − 1 (the main thread keeps one), at least 1. A pipeline that offers a setting passes `threads` itself. */
export function defaultMapThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

export function parallelMap<I, O>(name: string, options: ParallelMapOptions): ParallelMapStage<I, O> {
  const module = typeof options.module === 'string' ? pathToFileURL(options.module).href : options.module.href;
  const threads = options.threads ?? defaultMapThreads();
  const pool =
    threads > 0 ? Array.from({ length: threads }, () => new MapThread(name, module, options.exportName)) : [];
  let local: ((value: unknown) => unknown) | undefined;

  async function outcomes(values: unknown[]): Promise<Outcome[]> {
    if (pool.length === 0) {
      local ??= await loadFunction(module, options.exportName);
      return values.map((v) => settle(local!, v));
    }
    const size = Math.ceil(values.length / pool.length);
    const chunks = pool.map((t, i) =>
      i * size < values.length ? t.run(values.slice(i * size, (i + 1) * size)) : Promise.resolve([]),
    );
    return (await Promise.all(chunks)).flat();
  }

  return {
    name,
    async onBatch(batch: Batch<I>, out: StageOutput<O>) {
      const results = await outcomes(batch.records.map((r) => r.value));
      const output: StreamRecord<O>[] = [];
      results.forEach((result, i) => {
        const record = batch.records[i]!;
        if ('error' in result) out.deadLetter(record, new Error(result.error));
        else output.push(withValue(record, result.ok as O));
      });
      out.emit({ records: output, tokens: batch.tokens });
    },
    async close() {
      await Promise.all(pool.map((t) => t.worker.terminate()));
    },
  };
}

async function loadFunction(module: string, exportName: string): Promise<(value: unknown) => unknown> {
  const fn = ((await import(module)) as Record<string, unknown>)[exportName];
  if (typeof fn !== 'function') throw new Error(`${module} has no function export "${exportName}"`);
  return fn as (value: unknown) => unknown;
}

function settle(fn: (value: unknown) => unknown, value: unknown): Outcome {
  try {
    return { ok: fn(value) };
  } catch (error) {
    return { error: error instanceof Error ? error.message || error.name : String(error) };
  }
}

/** One worker thread and the requests it has not answered yet. */
class MapThread {
  readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(r: Outcome[]): void; reject(e: Error): void }>();
  private failure?: Error;

  constructor(stage: string, module: string, exportName: string) {
    this.worker = new Worker(new URL('./parallel-map-worker.js', import.meta.url), {
      workerData: { module, exportName },
    });
    this.worker.unref(); // an idle pool never keeps the process alive
    this.worker.on('message', (m: { id: number; results: Outcome[] }) => {
      this.pending.get(m.id)?.resolve(m.results);
      this.pending.delete(m.id);
    });
    const die = (error: Error) => {
      this.failure ??= new Error(`${stage}: map thread failed: ${error.message}`);
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`exited (code ${code})`)));
  }

  run(values: unknown[]): Promise<Outcome[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, values });
    });
  }
}
