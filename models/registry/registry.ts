/**
 * The model registry: a manifest listing every model version with its lineage, and the ONNX artifacts themselves
 * under `${DRIFTLINE_HOME}/models/<id>/<version>/model.onnx`. The manifest lives beside the artifacts by default
 * (`${DRIFTLINE_HOME}/models/manifest.json`), so a home is self-contained and a checkout stays clean; a team that
 * wants the manifest under version control points DRIFTLINE_MODELS_MANIFEST at a committed file.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Settings } from '../../config/settings.ts';
import type { Precision } from '../model-contract.ts';
import { sha256 } from './lineage.ts';

export type ModelStage = 'candidate' | 'production' | 'archived';

export interface ModelEntry {
  id: string;
  /** v1, v2, … per id. */
  version: string;
  /** The ModelKind id (e.g. `postings`, `frames`, `user`). */
  kind: string;
  precision: Precision;
  /** `id@version` this one was derived from (an int8 variant of an fp32 model, a retrain), or null. */
  parent: string | null;
  created_at: string;
  sha256: string;
  dataset_hash: string;
  config_hash: string;
  metrics: Record<string, number>;
  stage: ModelStage;
  /** Artifact path relative to DRIFTLINE_HOME. */
  file: string;
  /**
   * Event time (ISO) from which this version scores records: the event time up to which its training data was
   * taken (a replay, or a live run with the training barrier), or when a live run's hot swap took effect. Absent for
   * versions that were never put in force by a stream.
   */
  in_force_from?: string;
}

export interface Manifest {
  models: ModelEntry[];
}

export interface RegisterInput {
  id: string;
  kind: string;
  onnx: Uint8Array;
  precision?: Precision;
  parent?: string | null;
  datasetHash: string;
  configHash: string;
  metrics?: Record<string, number>;
  stage?: ModelStage;
  /** Defaults to now; tests pin it. */
  createdAt?: Date;
  /**
   * Return the existing version when one of this id already has the same bytes and parent, instead of registering a
   * copy: a replay that trains the same candidate again then names it as the first replay did.
   */
  reuseIdentical?: boolean;
}

export interface RegistryOptions {
  /** Where artifacts live: DRIFTLINE_HOME (config/settings.ts). */
  home: string;
  /** Default `<home>/models/manifest.json`. */
  manifestPath?: string;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface VerifyResult {
  ok: boolean;
  expected: string;
  /** null when the file is missing. */
  actual: string | null;
  path: string;
}

export class ModelRegistry {
  readonly manifestPath: string;
  readonly home: string;

  constructor(options: RegistryOptions) {
    this.home = resolve(options.home);
    this.manifestPath = resolve(options.manifestPath ?? join(this.home, 'models', 'manifest.json'));
  }

  /**
   * The registry the settings name: artifacts under DRIFTLINE_HOME, the manifest at DRIFTLINE_MODELS_MANIFEST if set.
   */
  static fromSettings(settings: Pick<Settings, 'home' | 'modelsManifest'>): ModelRegistry {
    return new ModelRegistry({ home: settings.home, manifestPath: settings.modelsManifest });
  }

  /** Every version, in registration order; only `id`'s when given. */
  list(id?: string): ModelEntry[] {
    const models = this.read().models;
    return id === undefined ? models : models.filter((m) => m.id === id);
  }

  /** A version; without one, the production version, else the latest. Throws when there is none. */
  get(id: string, version?: string): ModelEntry {
    const versions = this.list(id);
    if (versions.length === 0) throw new Error(`model ${id} is not registered (manifest ${this.manifestPath})`);
    if (version !== undefined) {
      const entry = versions.find((m) => m.version === version);
      if (!entry)
        throw new Error(`model ${id} has no version ${version} (has ${versions.map((m) => m.version).join(', ')})`);
      return entry;
    }
    return (
      versions.find((m) => m.stage === 'production') ??
      versions.reduce((a, b) => (versionNumber(b.version) > versionNumber(a.version) ? b : a))
    );
  }

  /** Absolute path of a version's artifact. */
  path(entry: ModelEntry): string {
    return isAbsolute(entry.file) ? entry.file : join(this.home, entry.file);
  }

  /** Stores the artifact, computes its sha256 and records the next version (v1 for a new id). */
  register(input: RegisterInput): ModelEntry {
    if (!ID_PATTERN.test(input.id)) throw new Error(`model id "${input.id}" must match ${ID_PATTERN}`);
    const manifest = this.read();
    const digest = sha256(input.onnx);
    if (input.reuseIdentical) {
      const same = manifest.models.find(
        (m) => m.id === input.id && m.sha256 === digest && m.parent === (input.parent ?? null),
      );
      if (same) return same;
    }
    const previous = manifest.models.filter((m) => m.id === input.id).map((m) => versionNumber(m.version));
    const version = `v${Math.max(0, ...previous) + 1}`;
    if (input.parent) this.parseRef(input.parent, manifest);
    const file = join('models', input.id, version, 'model.onnx');
    const entry: ModelEntry = {
      id: input.id,
      version,
      kind: input.kind,
      precision: input.precision ?? 'fp32',
      parent: input.parent ?? null,
      created_at: (input.createdAt ?? new Date()).toISOString(),
      sha256: digest,
      dataset_hash: input.datasetHash,
      config_hash: input.configHash,
      metrics: input.metrics ?? {},
      stage: input.stage ?? 'candidate',
      file,
    };
    const absolute = join(this.home, file);
    mkdirSync(dirname(absolute), { recursive: true });
    writeAtomic(absolute, input.onnx);
    if (entry.stage === 'production')
      for (const m of manifest.models) if (m.id === entry.id && m.stage === 'production') m.stage = 'archived';
    manifest.models.push(entry);
    this.write(manifest);
    return entry;
  }

  /** Makes a version the production one; the previous production version (if any) becomes archived. */
  promote(id: string, version: string): ModelEntry {
    const manifest = this.read();
    const entry = manifest.models.find((m) => m.id === id && m.version === version);
    if (!entry) throw new Error(`model ${id} has no version ${version}`);
    for (const m of manifest.models) if (m.id === id && m.stage === 'production' && m !== entry) m.stage = 'archived';
    entry.stage = 'production';
    this.write(manifest);
    return entry;
  }

  /** Records the event time from which a version scores records (see `ModelEntry.in_force_from`). */
  setInForceFrom(id: string, version: string, eventTime: number): ModelEntry {
    const manifest = this.read();
    const entry = manifest.models.find((m) => m.id === id && m.version === version);
    if (!entry) throw new Error(`model ${id} has no version ${version}`);
    entry.in_force_from = new Date(eventTime).toISOString();
    this.write(manifest);
    return entry;
  }

  /** Whether the artifact on disk still has the sha256 recorded at registration. */
  verify(id: string, version?: string): VerifyResult {
    const entry = this.get(id, version);
    const path = this.path(entry);
    const actual = existsSync(path) ? sha256(readFileSync(path)) : null;
    return { ok: actual === entry.sha256, expected: entry.sha256, actual, path };
  }

  /** The artifact bytes, verified against the manifest (a tampered or truncated file is refused). */
  readModel(id: string, version?: string): { entry: ModelEntry; bytes: Uint8Array } {
    const entry = this.get(id, version);
    const path = this.path(entry);
    if (!existsSync(path)) throw new Error(`model ${id}@${entry.version}: artifact ${path} is missing`);
    const bytes = readFileSync(path);
    const actual = sha256(bytes);
    if (actual !== entry.sha256)
      throw new Error(`model ${id}@${entry.version}: sha256 of ${path} is ${actual}, manifest says ${entry.sha256}`);
    return { entry, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  }

  /** The chain of parents, newest first: `[self, parent, grandparent, …]`. */
  lineage(id: string, version?: string): ModelEntry[] {
    const chain: ModelEntry[] = [];
    const manifest = this.read();
    let current: ModelEntry | undefined = this.get(id, version);
    while (current && chain.length < 1000) {
      chain.push(current);
      current = current.parent ? this.parseRef(current.parent, manifest) : undefined;
    }
    return chain;
  }

  read(): Manifest {
    if (!existsSync(this.manifestPath)) return { models: [] };
    const parsed = JSON.parse(readFileSync(this.manifestPath, 'utf8')) as Partial<Manifest>;
    if (!Array.isArray(parsed.models)) throw new Error(`${this.manifestPath}: "models" must be a list`);
    return { models: parsed.models };
  }

  private write(manifest: Manifest): void {
    mkdirSync(dirname(this.manifestPath), { recursive: true });
    writeAtomic(this.manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  }

  private parseRef(ref: string, manifest: Manifest): ModelEntry {
    const [id, version] = ref.split('@');
    const entry = manifest.models.find((m) => m.id === id && m.version === version);
    if (!entry) throw new Error(`parent ${ref} is not registered (expected id@version)`);
    return entry;
  }
}

function versionNumber(version: string): number {
  const n = /^v(\d+)$/.exec(version);
  if (!n) throw new Error(`model version "${version}" is not v<number>`);
  return Number(n[1]);
}

function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
