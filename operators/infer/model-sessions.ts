/**
 * The model sessions of one `infer` stage: loading and version resolution, hot swap, the extra versions `versionAt`
 * asks for, and releasing a session once it is retired and no running batch uses it.
 */
import { INPUT_NAME, OUTPUT_NAME } from '../../models/model-contract.ts';
import type { InferenceBackend, InferencePool } from '../../models/infer/worker-pool.ts';
import type { ModelRef, ResolvedModel } from './infer.ts';

/** One loaded version of a model, under its own key in the pool. */
export interface Loaded {
  id: string;
  version: string;
  key: string;
  model: ResolvedModel;
  /** Batches currently running on this session. */
  users: number;
  retired: boolean;
}

export interface SessionOptions {
  models: ModelRef[];
  resolveModel: (ref: ModelRef) => Promise<ResolvedModel>;
  backend?: InferenceBackend;
  onVersionInForce?: (modelId: string, version: string, eventTime: number) => void;
}

export class ModelSessions {
  /** model id → the session new batches use (in `options.models` order). */
  private readonly active = new Map<string, Loaded>();
  /** Sessions loaded for `versionAt` versions, by `id@version`. */
  private readonly byVersion = new Map<string, Loaded>();
  /** Last version seen scoring, by model id, for `onVersionInForce`. */
  private readonly inForce = new Map<string, string>();
  private readonly ids: string[];
  private loads = 0;
  private swaps: Promise<void> = Promise.resolve();
  private initializing: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly pool: InferencePool,
    private readonly options: SessionOptions,
  ) {
    this.ids = options.models.map((m) => m.id);
  }

  /** Loads the configured models once; every later call returns the same promise. */
  ready(): Promise<void> {
    this.initializing ??= (async () => {
      const loaded = await Promise.all(this.options.models.map((ref) => this.load(ref)));
      for (const l of loaded) this.active.set(l.id, l);
    })();
    return this.initializing;
  }

  /** The sessions new batches use, in `options.models` order. */
  current(): Loaded[] {
    return this.options.models.map((ref) => this.active.get(ref.id)!);
  }

  versions(): Record<string, string> {
    return Object.fromEntries([...this.active.values()].map((l) => [l.id, l.version]));
  }

  swap(id: string, version: string): Promise<void> {
    if (!this.ids.includes(id))
      return Promise.reject(new Error(`${this.name}: model ${id} is not one of ${this.ids.join(', ')}`));
    const next = this.swaps.then(async () => {
      await this.ready();
      const current = this.active.get(id)!;
      if (current.version === version) return;
      const loaded = await this.load({ id, version });
      // Atomic with respect to batches: onBatch takes its snapshot of `active` synchronously when it starts.
      this.active.set(id, loaded);
      current.retired = true;
      this.unload(current);
    });
    this.swaps = next.catch(() => {});
    return next;
  }

  /** The session for each configured model: the named version, or the active one where none is named. */
  sessionsFor(versions: (string | undefined)[]): Promise<Loaded[]> {
    return Promise.all(
      this.options.models.map(async (ref, j) => {
        const current = this.active.get(ref.id)!;
        const version = versions[j];
        return version === undefined || version === current.version ? current : this.loadVersion(ref.id, version);
      }),
    );
  }

  /** Keeps only the versions the last record used: event time moves forward, so older versions are done with. */
  retireVersionsBut(keep: Loaded[]): void {
    for (const [key, loaded] of this.byVersion) {
      if (keep.includes(loaded)) continue;
      this.byVersion.delete(key);
      loaded.retired = true;
      this.unload(loaded);
    }
  }

  /** Reports each model whose version changed since the last records scored, with this record's event time. */
  noteInForce(models: Loaded[], eventTime: number): void {
    for (const m of models) {
      if (this.inForce.get(m.id) === m.version) continue;
      this.inForce.set(m.id, m.version);
      this.options.onVersionInForce?.(m.id, m.version, eventTime);
    }
  }

  /** Unloads a session once it is retired and no running batch uses it. */
  unload(loaded: Loaded): void {
    if (loaded.retired && loaded.users === 0) this.pool.unload(loaded.key).catch(() => {});
  }

  /** After pending swaps: closes the pool (when the stage owns it) or unloads this stage's sessions. */
  async close(closePool: boolean): Promise<void> {
    await this.swaps;
    if (closePool) await this.pool.close();
    else await Promise.all([...this.active.values(), ...this.byVersion.values()].map((l) => this.pool.unload(l.key)));
    this.active.clear();
    this.byVersion.clear();
  }

  private async load(ref: ModelRef): Promise<Loaded> {
    const model = await this.options.resolveModel(ref);
    if (model.id !== ref.id) throw new Error(`${this.name}: resolving ${ref.id} gave model ${model.id}`);
    const key = `${this.name}/${model.id}@${model.version}#${this.loads++}`;
    await this.pool.load(key, model.bytes, {
      inputName: model.inputName ?? INPUT_NAME,
      outputName: model.outputName ?? OUTPUT_NAME,
      backend: this.options.backend ?? 'onnxruntime',
      foldDequantize: model.foldDequantize,
    });
    return { id: model.id, version: model.version, key, model, users: 0, retired: false };
  }

  private async loadVersion(id: string, version: string): Promise<Loaded> {
    const key = `${id}@${version}`;
    let loaded = this.byVersion.get(key);
    if (!loaded) {
      loaded = await this.load({ id, version });
      this.byVersion.set(key, loaded);
    }
    return loaded;
  }
}
