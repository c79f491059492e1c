/** Models and records shared by the infer tests and the benchmark. */
import { type DenseLayer, denseForward, denseModel, randomDense } from '../../models/infer/dense-model.ts';
import type { ModelRef, ResolvedModel } from './infer.ts';

export const FEATURES = 8;
export const CLASSES = 3;
export const SIZES = [FEATURES, 16, CLASSES];

export interface TestModel {
  id: string;
  version: string;
  layers: DenseLayer[];
  bytes: Uint8Array;
}

export function testModel(id: string, version: string, seed: number, sizes = SIZES): TestModel {
  const layers = randomDense(sizes, seed);
  return { id, version, layers, bytes: denseModel({ sizes, layers }) };
}

/** A resolver over an in-memory set of models: the latest version unless pinned. */
export function memoryResolver(models: TestModel[]): (ref: ModelRef) => Promise<ResolvedModel> {
  return async (ref) => {
    const candidates = models.filter(
      (m) => m.id === ref.id && (ref.version === undefined || m.version === ref.version),
    );
    const m = candidates.at(-1);
    if (!m) throw new Error(`no model ${ref.id}@${ref.version ?? 'latest'}`);
    return { id: m.id, version: m.version, bytes: m.bytes };
  };
}

/** Deterministic features for record i. */
export function featuresOf(i: number): number[] {
  return Array.from({ length: FEATURES }, (_, k) => Math.sin(i * 0.37 + k * 1.3) * 2 + ((i * 7 + k) % 5) * 0.1);
}

export const expectedLabel = (m: TestModel, x: number[], sizes = SIZES) => {
  const p = denseForward(sizes, m.layers, x);
  return p.indexOf(Math.max(...p));
};
export const expectedProbabilities = (m: TestModel, x: number[], sizes = SIZES) => denseForward(sizes, m.layers, x);
