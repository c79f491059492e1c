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
  if (!existsSync(`${base}.json`)) throw new Error(`no ${name} data beside ${modelFile}: it is saved by 'driftline models train'`);
  const meta = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { shape: number[]; labels: number[] };
  const bytes = readFileSync(`${base}.f32`);
  const inputs = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { inputs, shape: meta.shape, labels: Int32Array.from(meta.labels) };
}

/** Share of rows whose most probable class is the label. */
export function accuracy(probabilities: Float32Array, labels: Int32Array, classes: number): number {
  let correct = 0;
  for (let row = 0; row < labels.length; row++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probabilities[row * classes + c]! > probabilities[row * classes + best]!) best = c;
    if (best === labels[row]) correct += 1;
  }
  return labels.length === 0 ? 0 : correct / labels.length;
}
