import type { ModelKind } from './model-contract.ts';
import { framesCnn } from './frames/frames-model.ts';
import { postingsClassifier } from './postings/postings-model.ts';

/** The model kinds `driftline models train` knows, with the model id each trains by default. */
export const modelKinds: Record<string, { kind: ModelKind<object>; defaultId: string; classes: number }> = {
  postings: { kind: postingsClassifier, defaultId: 'postings-a', classes: 2 },
  frames: { kind: framesCnn, defaultId: 'frames-cnn', classes: 6 },
};

export function modelKind(name: string) {
  const found = modelKinds[name];
  if (!found) throw new Error(`unknown model kind "${name}"; known: ${Object.keys(modelKinds).join(', ')}`);
  return found;
}
