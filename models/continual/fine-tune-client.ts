/**
 * The pipeline's handle on the fine-tune worker: a child process (fine-tune-worker.js → fine-tune-process.ts) that
 * featurizes, trains, exports to ONNX and scores holdouts, so the event loop only sends texts and receives bytes.
 *
 * A process, not a worker thread, because of how Linux shares CPU: with autogroups (the default on desktop and many
 * server kernels) the scheduler splits CPU between sessions first, and a training thread's CPU time is charged to
 * the pipeline's own session — when another job keeps the other core busy, the event loop then waits for its
 * session's next turn, whatever the thread's nice value. The worker runs detached, in a session of its own.
 * Measured on the 2-core dev machine with one external busy process: an idle event loop's max delay 22–42 ms beside
 * a detached training process, 91–97 ms beside a training thread (13–16 ms with nothing running).
 *
 * Messages use the structured-clone serialization. Texts go in chunks of STAGE_CHUNK with a turn of the event loop
 * between them: serializing 10,000 postings in one message holds the event loop ~20 ms, one chunk of 1,000 ~1 ms.
 * The process starts on first use (or `start()`), does not keep the pipeline alive while idle, and exits when the
 * pipeline's process goes away (its IPC channel closes).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PostingText } from '../postings/features.ts';
import type { HoldoutScore } from './holdout-evaluation.ts';
import type { FineTuneConfig, FineTuneExample } from './fine-tune.ts';

export interface FineTuneRequest {
  parentOnnx: Uint8Array;
  examples: FineTuneExample[];
  config: FineTuneConfig;
  /** Written into the exported model's metadata. */
  datasetHash: string;
  configHash: string;
}

export interface FineTuneReply {
  onnx: Uint8Array;
  losses: number[];
  featurizeSeconds: number;
  trainSeconds: number;
  exportSeconds: number;
  batchesPerEpoch: number;
  humanPerBatch: number;
  /** The worker process's peak RSS so far. */
  maxRssMb: number;
}

export interface FineTuneWorkerOptions {
  /** Nice value of the worker process (0–19). Default 10, as the inference threads. */
  nice?: number;
  /**
   * Extra wall time before each fine-tune, ms: how a slower or busier machine behaves. Default 0. The postings
   * pipeline passes DRIFTLINE_FINE_TUNE_DELAY_MS (config/settings.ts `fineTuneDelayMs`): the replay tests use it to
   * show event-time training does not depend on it.
   */
  delayMs?: number;
}

const STAGE_CHUNK = 1000;
const ENTRY = fileURLToPath(new URL('./fine-tune-worker.js', import.meta.url));

interface Pending {
  resolve(value: Record<string, unknown>): void;
  reject(error: Error): void;
}

export class FineTuneWorker {
  private child?: ChildProcess;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly options: FineTuneWorkerOptions = {}) {}

  async fineTune(request: FineTuneRequest): Promise<FineTuneReply> {
    const delayMs = this.options.delayMs ?? 0;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const { examples, ...rest } = request;
    const examplesKey = await this.stage(examples);
    return (await this.request({ type: 'fine-tune', ...rest, examplesKey })) as unknown as FineTuneReply;
  }

  /** Scores each model on the labelled texts (ONNX Runtime, in the worker). */
  async evaluate(
    models: Array<{ name: string; onnx: Uint8Array }>,
    texts: PostingText[],
    labels: Int32Array,
  ): Promise<Record<string, HoldoutScore>> {
    const textsKey = await this.stage(texts);
    const reply = await this.request({ type: 'evaluate', models, textsKey, labels });
    return reply.metrics as Record<string, HoldoutScore>;
  }

  /**
   * Starts the process ahead of the first request: loading tsx, tfjs and ONNX Runtime takes ~0.6 s, and fork()
   * itself holds the event loop ~10–30 ms in a large process (copying its page tables) — better before a run than in
   * one.
   */
  start(): void {
    this.spawn();
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.ref(); // wait for the exit even if nothing else keeps the process alive
    child.kill();
    await exited;
  }

  private spawn(): ChildProcess {
    if (this.child) return this.child;
    const nice = Math.min(19, Math.max(0, this.options.nice ?? 10));
    const child = fork(ENTRY, [String(nice)], {
      // its own session: its CPU time is not charged to the pipeline's (see the file comment)
      detached: true,
      serialization: 'advanced',
      execArgv: [], // the entry registers tsx itself; the parent's flags (vitest's, tsx's) are not for it
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.idle(child);
    child.on('message', (m: { id: number; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.idle(child);
      if (m.error !== undefined) p.reject(new Error(`fine-tune worker: ${m.error}`));
      else p.resolve(m as unknown as Record<string, unknown>);
    });
    const die = (error: Error) => {
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
      if (this.child === child) this.child = undefined; // the next request starts a fresh process
    };
    child.on('error', die);
    child.on('exit', (code, signal) => die(new Error(`fine-tune worker exited (${signal ?? `code ${code}`})`)));
    this.child = child;
    return child;
  }

  /** Neither the process nor its channel keeps the pipeline alive while nothing is pending. */
  private idle(child: ChildProcess): void {
    child.unref();
    child.channel?.unref();
  }

  /** Sends `items` in chunks; the worker collects them under the returned key for the next request to take. */
  private async stage(items: readonly unknown[]): Promise<number> {
    const key = this.nextId++;
    for (let first = 0; first === 0 || first < items.length; first += STAGE_CHUNK) {
      if (first > 0) await new Promise((r) => setImmediate(r));
      this.spawn().send({ type: 'stage', key, items: items.slice(first, first + STAGE_CHUNK) });
    }
    return key;
  }

  private request(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    const child = this.spawn();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // a request in flight keeps the pipeline alive until its answer
      child.ref();
      child.channel?.ref();
      child.send({ ...message, id });
    });
  }
}
