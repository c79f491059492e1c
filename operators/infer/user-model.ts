/**
 * A user's own ONNX classifier, described by a small JSON config (see README.md) when its input/output names or
 * preprocessing differ from the driftline contract. `userModel` turns the config into what `infer` needs.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ModelRef, ResolvedModel } from './infer.ts';

export type UserPreprocessing = 'none' | 'scale' | 'standardize' | 'minmax';

export interface UserModelConfig {
  id: string;
  /** Version label in the predictions. Default 'v1'. */
  version?: string;
  /** Path to the .onnx file, relative to the config file (or the current directory). */
  file: string;
  input: {
    name: string;
    /** One row's shape without the batch dimension, e.g. [8]. */
    shape: number[];
    preprocessing?: UserPreprocessing;
    /** scale: x·scale (number or one per feature). */
    scale?: number | number[];
    /** standardize: (x − mean) / std, per feature. */
    mean?: number[];
    std?: number[];
    /** minmax: (x − min) / (max − min), per feature. */
    min?: number[];
    max?: number[];
    /** Dotted path of the record value's field holding the feature array, e.g. "features" or "payload.x". */
    field: string;
  };
  output: {
    name: string;
    classes: string[];
    /** 'softmax' when the output holds scores/logits. Default 'none' (already probabilities). */
    activation?: 'none' | 'softmax';
  };
}

export interface UserModel {
  ref: ModelRef;
  featureShape: number[];
  classes: string[];
  toInput: (value: unknown) => Float32Array;
  resolveModel: (ref: ModelRef) => Promise<ResolvedModel>;
}

export function loadUserModelConfig(path: string): { config: UserModelConfig; baseDir: string } {
  const config = JSON.parse(readFileSync(path, 'utf8')) as UserModelConfig;
  validate(config, path);
  return { config, baseDir: dirname(resolve(path)) };
}

function validate(config: UserModelConfig, where: string): void {
  const fail = (why: string) => {
    throw new Error(`user model config ${where}: ${why}`);
  };
  if (typeof config?.id !== 'string' || !config.id) fail('"id" must be a non-empty string');
  if (typeof config.file !== 'string' || !config.file) fail('"file" must be a path');
  if (typeof config.input?.name !== 'string') fail('"input.name" must be a string');
  if (!Array.isArray(config.input.shape) || config.input.shape.some((d) => !Number.isInteger(d) || d <= 0))
    fail('"input.shape" must be a list of positive integers');
  if (typeof config.input.field !== 'string' || !config.input.field)
    fail('"input.field" must name the field holding the features');
  if (typeof config.output?.name !== 'string') fail('"output.name" must be a string');
  if (!Array.isArray(config.output.classes) || config.output.classes.length < 2)
    fail('"output.classes" must list at least two class names');
  const p = config.input.preprocessing ?? 'none';
  const width = config.input.shape.reduce((a, b) => a * b, 1);
  const perFeature = (name: 'mean' | 'std' | 'min' | 'max' | 'scale') => {
    const v = config.input[name];
    if (!Array.isArray(v) || v.length !== width || v.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
      fail(`"input.${name}" must list ${width} finite numbers`);
  };
  if (p === 'scale') {
    if (typeof config.input.scale !== 'number') perFeature('scale');
  } else if (p === 'standardize') {
    perFeature('mean');
    perFeature('std');
    if (config.input.std!.some((s) => s === 0)) fail('"input.std" must not contain 0');
  } else if (p === 'minmax') {
    perFeature('min');
    perFeature('max');
    if (config.input.min!.some((m, i) => m === config.input.max![i]))
      fail('"input.min" and "input.max" must differ per feature');
  } else if (p !== 'none') fail(`unknown preprocessing "${p}" (none, scale, standardize, minmax)`);
}

/** The infer pieces for a user model: field extraction, preprocessing, and input/output name mapping. */
export function userModel(config: UserModelConfig, baseDir = process.cwd()): UserModel {
  validate(config, config.id);
  const fieldPath = config.input.field.split('.');
  const version = config.version ?? 'v1';
  const file = isAbsolute(config.file) ? config.file : resolve(baseDir, config.file);
  const preprocess = preprocessor(config);
  return {
    ref: { id: config.id, version },
    featureShape: config.input.shape,
    classes: config.output.classes,
    toInput(value) {
      let v: unknown = value;
      for (const key of fieldPath) {
        if (v === null || typeof v !== 'object') throw new Error(`field ${config.input.field} is missing`);
        v = (v as Record<string, unknown>)[key];
      }
      if (!Array.isArray(v) && !ArrayBuffer.isView(v))
        throw new Error(`field ${config.input.field} is not an array of numbers`);
      // Non-numbers become NaN, which infer then rejects with their index.
      return Float32Array.from(v as ArrayLike<number>, (x) => (typeof x === 'number' ? x : Number.NaN));
    },
    async resolveModel(ref) {
      if (ref.id !== config.id) throw new Error(`user model ${config.id} cannot resolve ${ref.id}`);
      if (ref.version !== undefined && ref.version !== version)
        throw new Error(`user model ${config.id} has only version ${version}`);
      const bytes = readFileSync(file);
      return {
        id: config.id,
        version,
        bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        inputName: config.input.name,
        outputName: config.output.name,
        outputActivation: config.output.activation ?? 'none',
        preprocess,
      };
    },
  };
}

function preprocessor(config: UserModelConfig): ((row: Float32Array) => void) | undefined {
  const i = config.input;
  switch (i.preprocessing ?? 'none') {
    case 'none':
      return undefined;
    case 'scale': {
      const s = i.scale!;
      return (row) => {
        for (let k = 0; k < row.length; k++) row[k]! *= typeof s === 'number' ? s : s[k]!;
      };
    }
    case 'standardize':
      return (row) => {
        for (let k = 0; k < row.length; k++) row[k] = (row[k]! - i.mean![k]!) / i.std![k]!;
      };
    case 'minmax':
      return (row) => {
        for (let k = 0; k < row.length; k++) row[k] = (row[k]! - i.min![k]!) / (i.max![k]! - i.min![k]!);
      };
  }
}
