import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../models/registry/registry.ts';
import { modelVariants } from './model-variants.ts';

function registry() {
  const dir = mkdtempSync(join(tmpdir(), 'driftline-bench-variants-'));
  return new ModelRegistry({ manifestPath: join(dir, 'models.json'), home: dir });
}
const onnx = (n: number) => Uint8Array.of(n); // bytes are not read when choosing variants
const hashes = { datasetHash: 'd', configHash: 'c' };

describe('modelVariants', () => {
  it('takes the production fp32 version and the latest quantized child per precision', () => {
    const reg = registry();
    reg.register({ id: 'postings-a', kind: 'postings', onnx: onnx(1), ...hashes, stage: 'production' }); // v1
    reg.register({
      id: 'postings-a',
      kind: 'postings',
      onnx: onnx(2),
      precision: 'int8',
      parent: 'postings-a@v1',
      ...hashes,
    }); // v2
    reg.register({
      id: 'postings-a',
      kind: 'postings',
      onnx: onnx(3),
      precision: 'fp16',
      parent: 'postings-a@v1',
      ...hashes,
    }); // v3
    reg.register({
      id: 'postings-a',
      kind: 'postings',
      onnx: onnx(4),
      precision: 'int8',
      parent: 'postings-a@v1',
      ...hashes,
    }); // v4: newer int8
    // v5: a candidate retrain, not production
    reg.register({ id: 'postings-a', kind: 'postings', onnx: onnx(5), ...hashes });
    reg.register({
      id: 'postings-a',
      kind: 'postings',
      onnx: onnx(6),
      precision: 'int8',
      parent: 'postings-a@v5',
      ...hashes,
    }); // v6: its child
    reg.register({ id: 'frames-cnn', kind: 'frames', onnx: onnx(7), ...hashes }); // only a candidate: the latest
    const found = modelVariants(reg);
    expect(found.map((m) => [m.id, m.variants.map((v) => `${v.version}:${v.precision}`)])).toEqual([
      ['postings-a', ['v1:fp32', 'v4:int8', 'v3:fp16']],
      ['frames-cnn', ['v1:fp32']],
    ]);
  });

  it('goes back to the fp32 parent when a quantized variant is in production, and skips unknown kinds', () => {
    const reg = registry();
    reg.register({ id: 'postings-a', kind: 'postings', onnx: onnx(1), ...hashes });
    reg.register({
      id: 'postings-a',
      kind: 'postings',
      onnx: onnx(2),
      precision: 'int8',
      parent: 'postings-a@v1',
      ...hashes,
      stage: 'production',
    });
    reg.register({ id: 'mystery', kind: 'audio', onnx: onnx(3), ...hashes });
    const notes: string[] = [];
    const found = modelVariants(reg, (n) => notes.push(n));
    expect(found.map((m) => [m.id, m.variants.map((v) => v.version)])).toEqual([['postings-a', ['v1', 'v2']]]);
    expect(notes).toEqual([expect.stringMatching(/skipping mystery: .*kind "audio"/)]);
  });

  it('finds nothing in an empty registry', () => {
    expect(modelVariants(registry())).toEqual([]);
  });
});
