import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { denseModel, randomDense } from '../infer/dense-model.ts';
import { canonicalJson, configHash, lineageHash, sha256 } from './lineage.ts';
import { loadSettings } from '../../config/settings.ts';
import { ModelRegistry } from './registry.ts';

function tempRegistry() {
  const dir = mkdtempSync(join(tmpdir(), 'driftline-registry-'));
  return {
    dir,
    registry: new ModelRegistry({ manifestPath: join(dir, 'config', 'models.json'), home: join(dir, 'home') }),
  };
}

function dataset(dir: string, rows: string[]) {
  const data = join(dir, `data-${Math.random().toString(36).slice(2)}`);
  mkdirSync(data);
  writeFileSync(join(data, 'b.csv'), rows.slice(1).join('\n'));
  writeFileSync(join(data, 'a.csv'), rows[0]!);
  return data;
}

const bytes = denseModel({ sizes: [8, 3], layers: randomDense([8, 3], 1) });
const config = { seed: 7, epochs: 3, lr: 0.01, layers: [8, 3] };

describe('model registry', () => {
  it('keeps its manifest beside the artifacts in DRIFTLINE_HOME unless DRIFTLINE_MODELS_MANIFEST names one', () => {
    const home = mkdtempSync(join(tmpdir(), 'driftline-registry-home-'));
    const fromEnv = (env: NodeJS.ProcessEnv) => ModelRegistry.fromSettings(loadSettings(env));
    expect(fromEnv({ DRIFTLINE_HOME: home }).manifestPath).toBe(join(home, 'models', 'manifest.json'));
    expect(fromEnv({ DRIFTLINE_HOME: home, DRIFTLINE_MODELS_MANIFEST: join(home, 'team.json') }).manifestPath).toBe(
      join(home, 'team.json'),
    );
    expect(fromEnv({ DRIFTLINE_HOME: home }).list()).toEqual([]);
  });

  it('gives identical hashes for identical bytes, data and config, and changes only the hash of what changed', () => {
    const { dir, registry } = tempRegistry();
    const register = (data: string, cfg: object) =>
      registry.register({
        id: 'dense',
        kind: 'user',
        onnx: bytes,
        datasetHash: lineageHash([data]),
        configHash: configHash(cfg),
        metrics: { accuracy: 0.9 },
      });
    const d1 = dataset(dir, ['x,y', '1,2', '3,4']);
    const d1again = dataset(dir, ['x,y', '1,2', '3,4']);
    const d2 = dataset(dir, ['x,y', '1,2', '3,5']);

    const a = register(d1, config);
    // same data elsewhere, keys reordered
    const b = register(d1again, { lr: 0.01, layers: [8, 3], epochs: 3, seed: 7 });
    expect(a.version).toBe('v1');
    expect(b.version).toBe('v2');
    expect([b.sha256, b.dataset_hash, b.config_hash]).toEqual([a.sha256, a.dataset_hash, a.config_hash]);
    expect(a.sha256).toBe(sha256(bytes));
    expect(a.file).toBe(join('models', 'dense', 'v1', 'model.onnx'));
    expect(readFileSync(join(registry.home, a.file))).toEqual(Buffer.from(bytes));

    const changedData = register(d2, config);
    expect(changedData.dataset_hash).not.toBe(a.dataset_hash);
    expect([changedData.sha256, changedData.config_hash]).toEqual([a.sha256, a.config_hash]);

    const changedConfig = register(d1, { ...config, lr: 0.02 });
    expect(changedConfig.config_hash).not.toBe(a.config_hash);
    expect([changedConfig.sha256, changedConfig.dataset_hash]).toEqual([a.sha256, a.dataset_hash]);

    expect(registry.list('dense').map((m) => m.version)).toEqual(['v1', 'v2', 'v3', 'v4']);
    // The manifest on disk is what list() reads: a fresh registry object sees the same.
    const again = new ModelRegistry({ manifestPath: registry.manifestPath, home: registry.home });
    expect(again.list()).toEqual(registry.list());
  });

  it('canonical JSON ignores key order and whitespace, keeps array order, refuses NaN', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[3,1]},"b":1}');
    expect(configHash({ a: 1, b: 2 })).toBe(configHash({ b: 2, a: 1 }));
    expect(configHash({ a: [1, 2] })).not.toBe(configHash({ a: [2, 1] }));
    expect(() => canonicalJson({ a: Number.NaN })).toThrow('not representable');
    expect(lineageHash(new Uint8Array([1, 2, 3]))).toBe(sha256(new Uint8Array([1, 2, 3])));
  });

  it('get defaults to production, else latest; promote archives the previous production version', () => {
    const { registry } = tempRegistry();
    const reg = (parent: string | null = null) =>
      registry.register({ id: 'm', kind: 'user', onnx: bytes, datasetHash: 'd', configHash: 'c', parent });
    reg();
    reg('m@v1');
    reg('m@v2');
    expect(registry.get('m').version).toBe('v3'); // no production yet: latest
    registry.promote('m', 'v1');
    expect(registry.get('m').version).toBe('v1');
    registry.promote('m', 'v2');
    expect(registry.list('m').map((e) => [e.version, e.stage])).toEqual([
      ['v1', 'archived'],
      ['v2', 'production'],
      ['v3', 'candidate'],
    ]);
    expect(registry.get('m').version).toBe('v2');
    expect(registry.get('m', 'v3').stage).toBe('candidate');
    expect(registry.lineage('m', 'v3').map((e) => e.version)).toEqual(['v3', 'v2', 'v1']);
    expect(() => registry.get('m', 'v9')).toThrow('has no version v9');
    expect(() => registry.get('nope')).toThrow('not registered');
    expect(() => reg('m@v7')).toThrow('parent m@v7 is not registered');
  });

  it('verify detects a tampered artifact, and readModel refuses it', () => {
    const { registry } = tempRegistry();
    const entry = registry.register({ id: 'm', kind: 'user', onnx: bytes, datasetHash: 'd', configHash: 'c' });
    expect(registry.verify('m', 'v1').ok).toBe(true);
    expect(Buffer.from(registry.readModel('m').bytes).equals(Buffer.from(bytes))).toBe(true);
    const path = registry.path(entry);
    const tampered = Buffer.from(readFileSync(path));
    tampered[tampered.length - 1] ^= 0xff;
    writeFileSync(path, tampered);
    const result = registry.verify('m', 'v1');
    expect(result.ok).toBe(false);
    expect(result.actual).toBe(sha256(tampered));
    expect(result.expected).toBe(entry.sha256);
    expect(() => registry.readModel('m', 'v1')).toThrow(/sha256 of .* is .*, manifest says/);
  });

  it('reads the manifest path from DRIFTLINE_MODELS_MANIFEST and artifacts from DRIFTLINE_HOME', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftline-registry-env-'));
    const registry = ModelRegistry.fromSettings(
      loadSettings({ DRIFTLINE_MODELS_MANIFEST: join(dir, 'm.json'), DRIFTLINE_HOME: join(dir, 'h') }),
    );
    expect(registry.manifestPath).toBe(join(dir, 'm.json'));
    expect(registry.home).toBe(join(dir, 'h'));
    expect(registry.list()).toEqual([]);
  });
});
