import * as tf from '@tensorflow/tfjs';

/** Selects a tfjs backend once per process: 'wasm' (bundled binaries) for inference, 'cpu' where wasm lacks kernels. */
export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  // Production mode: no "install tfjs-node" banner on every command that trains (that package cannot install here).
  if (!tf.env().getBool('PROD')) tf.enableProdMode();
  if (tf.getBackend() !== name) {
    if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`tfjs backend ${name} is not available`);
  }
  await tf.ready();
}

/**
 * Class probabilities of a tfjs model for row-major inputs whose rows have `rowShape` (e.g. [16384] or
 * [48, 48, 1]), predicted in chunks so memory stays flat; returns row-major [rows, classes].
 */
export function predictInChunks(
  model: tf.LayersModel,
  inputs: Float32Array,
  rowShape: number[],
  chunk = 256,
): Float32Array {
  const rowSize = rowShape.reduce((a, b) => a * b, 1);
  const rows = inputs.length / rowSize;
  const classes = model.outputs[0]!.shape[1] as number;
  const out = new Float32Array(rows * classes);
  for (let first = 0; first < rows; first += chunk) {
    const m = Math.min(chunk, rows - first);
    const probs = tf.tidy(
      () =>
        model.predict(
          tf.tensor(inputs.subarray(first * rowSize, (first + m) * rowSize), [m, ...rowShape]),
        ) as tf.Tensor,
    );
    out.set(probs.dataSync() as Float32Array, first * classes);
    probs.dispose();
  }
  return out;
}
