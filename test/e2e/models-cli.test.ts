import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapFloatInitializers } from '../../models/postings/quantize.ts';
import { ModelRegistry } from '../../models/registry/registry.ts';
import { loadReferenceProfile } from '../../operators/drift/reference-profile.ts';
import { dataDir } from '../data-dir.ts';
import { driftline, driftlineOk, exitOf } from './cli.ts';

describe('driftline models (train → quantize → parity → eval → promote)', () => {
  it('trains Model A, derives an int8 variant that passes parity, and fails a broken variant loudly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftline-models-'));
    const manifest = join(dir, 'models.json');
    writeFileSync(manifest, '{"models":[]}');
    const env = { DRIFTLINE_MODELS_MANIFEST: manifest, DRIFTLINE_HOME: join(dir, 'home') };

    const trained = await driftlineOk(['models', 'train', 'postings', '--data', dataDir()], env);
    const trainedAccuracy = Number(/accuracy\s+([\d.]+)/.exec(trained)?.[1]);
    expect(trainedAccuracy).toBeGreaterThan(0.85);
    // the drift reference profile is stored with the version: held-out rows with the model's predictions
    const reg = new ModelRegistry({ manifestPath: manifest, home: env.DRIFTLINE_HOME });
    const profile = loadReferenceProfile(reg.path(reg.get('postings-a', 'v1')));
    expect(profile.model).toBe('postings-a@v1');
    expect(profile.rows).toBeGreaterThan(200);
    expect(Object.keys(profile.numeric).sort()).toEqual(['confidence', 'description_length']);
    expect(profile.categorical.predicted_class!.count).toBe(profile.rows);

    await driftlineOk(['models', 'quantize', 'postings-a', '--precision', 'int8'], env);
    const parity = await driftlineOk(
      ['models', 'parity', 'postings-a', '--version', 'v2', '--abs-tol', '0.04', '--mean-tol', '0.01'],
      env,
    );
    expect(parity).toMatch(/parity ok/);
    const int8Accuracy = Number(/accuracy ([\d.]+) vs/.exec(parity)?.[1]);
    expect(int8Accuracy).toBeGreaterThanOrEqual(0.99 * trainedAccuracy); // the MLPerf convention
    // `eval` reports the same accuracy the registry recorded for the variant.
    const evaluated = await driftlineOk(['models', 'eval', 'postings-a', '--version', 'v2'], env);
    expect(Number(/accuracy ([\d.]+)/.exec(evaluated)?.[1])).toBe(int8Accuracy);

    // A deliberately broken variant: every weight scaled by 1.6. Registered as a child of v1, it must fail parity.
    const registry = new ModelRegistry({ manifestPath: manifest, home: env.DRIFTLINE_HOME });
    const { bytes } = registry.readModel('postings-a', 'v1');
    const broken = mapFloatInitializers(bytes, ['W1', 'W2'], (w) => w.map((x) => x * 1.6));
    const v1 = registry.get('postings-a', 'v1');
    registry.register({
      id: 'postings-a',
      kind: 'postings',
      onnx: broken,
      parent: 'postings-a@v1',
      datasetHash: v1.dataset_hash,
      configHash: v1.config_hash,
    });
    const failing = driftline(['models', 'parity', 'postings-a', '--version', 'v3'], env);
    expect(await exitOf(failing)).toBe(1);
    expect(failing.output()).toMatch(/parity FAILED: max abs diff .* exceeds absTol 0.04/);

    await driftlineOk(['models', 'promote', 'postings-a', 'v2'], env);
    const list = await driftlineOk(['models', 'list'], env);
    expect(list).toMatch(/postings-a\s+v2\s+postings\s+int8\s+production\s+postings-a@v1/);
    // Lineage: the int8 variant carries its parent's data and config hashes.
    const [a, b] = [registry.get('postings-a', 'v1'), registry.get('postings-a', 'v2')];
    expect([b.dataset_hash, b.config_hash]).toEqual([a.dataset_hash, a.config_hash]);
    expect(b.sha256).not.toBe(a.sha256);
  }, 180_000);
});
