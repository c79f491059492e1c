/**
 * NEU-DET surface-defect frames as a training set, read through exactly the preprocessing the stream applies
 * (`normalizeFrame`: decode, luma grey, area resize to size x size, [0,1]), so a model trained here sees at
 * serving time the same tensors it saw in training ('frames-gray-v1' + size, recorded in the ONNX metadata).
 *
 * Class = file-name prefix (`labelFromFileName`), class index = position in the sorted class names. The held-out
 * split is stratified and seeded: per class, a seeded shuffle of that class's files, the first `heldOutFraction`
 * go to held-out. The dataset hash is the registry's lineage hash of the files read.
 */
import { lineageHash } from '../registry/lineage.ts';
import { rng, shuffleInPlace } from '../seeded-random.ts';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { labelFromFileName, listImageFiles } from '../../connectors/camera/image-directory.ts';
import { readImageHeader } from '../../schemas/image-header.ts';
import { normalizeFrames } from '../../operators/normalize/frame.ts';
import type { CameraFrame } from '../../schemas/camera-frame.ts';

export const FRAMES_PREPROCESSING = 'frames-gray-v1';

/** Where the NEU-DET images live under the shared data directory. */
export const neuDetImagesDir = (dataDir: string) => join(dataDir, 'frames', 'neu-det', 'images');

export interface FrameSplit {
  /** NHWC with C = 1, i.e. row-major [n, size, size] (the layout `normalizeFrame` returns, one frame after another). */
  inputs: Float32Array;
  labels: Int32Array;
  files: string[];
}

export interface FrameDataset {
  size: number;
  classes: string[];
  train: FrameSplit;
  heldOut: FrameSplit;
  datasetHash: string;
}

/** Files -> CameraFrames, the way the image-directory camera emits them (encoded bytes untouched). */
export function fileFrame(data: Uint8Array, sequence: number): CameraFrame {
  const header = readImageHeader(data);
  return {
    camera_id: 'neu-det',
    sequence,
    captured_at: sequence,
    width: header.width,
    height: header.height,
    channels: header.channels,
    encoding: header.format,
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** Frames -> model input rows (size*size each), through `normalizeFrames`; any bad frame is an error here. */
export async function preprocessFrames(frames: CameraFrame[], size: number, batch = 64): Promise<Float32Array> {
  const out = new Float32Array(frames.length * size * size);
  for (let first = 0; first < frames.length; first += batch) {
    const results = await normalizeFrames(frames.slice(first, first + batch), { size, gray: true });
    results.forEach((r, i) => {
      if (r instanceof Error) throw new Error(`frame ${first + i}: ${r.message}`);
      out.set(r.tensor, (first + i) * size * size);
    });
  }
  return out;
}

export interface LoadOptions {
  size: number;
  seed: number;
  heldOutFraction?: number;
}

export async function loadNeuDet(dataDir: string, options: LoadOptions): Promise<FrameDataset> {
  const { size, seed } = options;
  const fraction = options.heldOutFraction ?? 0.2;
  const files = await listImageFiles(neuDetImagesDir(dataDir));
  if (files.length === 0) throw new Error(`no images in ${neuDetImagesDir(dataDir)}`);
  const names = files.map((f) => {
    const label = labelFromFileName(f);
    if (label === null) throw new Error(`cannot tell the class of ${f} (expected <class>_<n>.jpg)`);
    return label;
  });
  const classes = [...new Set(names)].sort();
  const labels = Int32Array.from(names, (n) => classes.indexOf(n));

  const contents = await Promise.all(files.map((f) => readFile(f)));
  const datasetHash = lineageHash(files);

  const tensors = await preprocessFrames(
    contents.map((c, i) => fileFrame(c, i)),
    size,
  );

  const random = rng(seed);
  const heldOutIdx: number[] = [];
  const trainIdx: number[] = [];
  classes.forEach((_, c) => {
    const members = shuffleInPlace(
      [...labels.keys()].filter((i) => labels[i] === c),
      random,
    );
    const k = Math.round(members.length * fraction);
    heldOutIdx.push(...members.slice(0, k));
    trainIdx.push(...members.slice(k));
  });
  heldOutIdx.sort((a, b) => a - b);
  trainIdx.sort((a, b) => a - b);
  const pick = (idx: number[]): FrameSplit => {
    const px = size * size;
    const inputs = new Float32Array(idx.length * px);
    idx.forEach((src, row) => {
      inputs.set(tensors.subarray(src * px, (src + 1) * px), row * px);
    });
    return { inputs, labels: Int32Array.from(idx, (i) => labels[i]!), files: idx.map((i) => files[i]!) };
  };
  return { size, classes, train: pick(trainIdx), heldOut: pick(heldOutIdx), datasetHash };
}
