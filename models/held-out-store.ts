import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HeldOut } from './model-contract.ts';

/**
 * Keeps a model version's held-out and calibration data beside its artifact (`held-out.f32` + `held-out.json`),
 * so `models eval`, `parity` and `quantize` run later on exactly the data training held out.
 */
export function saveHeldOut(modelFile: string, name: 'held-out' | 'calibration', data: HeldOut): void {
  mkdirSync(dirname(modelFile), { recursive: true });
  const base = join(dirname(modelFile), name);
  writeFileSync(`${base}.f32`, Buffer.from(data.inputs.buffer, data.inputs.byteOffset, data.inputs.byteLength));
  writeFileSync(`${base}.json`, JSON.stringify({ shape: data.shape, labels: [...data.labels] }));
}

export function loadHeldOut(modelFile: string, name: 'held-out' | 'calibration'): HeldOut {
  const base = join(dirname(modelFile), name);
  if (!existsSync(`${base}.json`))
    throw new Error(`no ${name} data beside ${modelFile}: it is saved by 'driftline models train'`);
  const meta = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { shape: number[]; labels: number[] };
  const bytes = readFileSync(`${base}.f32`);
  const inputs = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { inputs, shape: meta.shape, labels: Int32Array.from(meta.labels) };
}
