/**
 * The postings MLP's weights read back from its ONNX export (the W1, b1, W2, b2 initializers of export.ts). The
 * registered artifact is the only copy of a B version's weights the loop needs: the next fine-tune starts from it,
 * also after a restart, and the registry's sha256 check guarantees it is the version the manifest names.
 */
import { decodeModel, floatValues } from '../postings/quantize.ts';
import type { MlpWeights } from '../postings/train.ts';

export function mlpWeightsFromOnnx(bytes: Uint8Array): MlpWeights {
  const initializers = decodeModel(bytes).graph?.initializer ?? [];
  const get = (name: string) => {
    const t = initializers.find((i) => i.name === name);
    if (!t) throw new Error(`ONNX model has no initializer ${name}: not a postings MLP export (fp32)`);
    return { values: floatValues(t).slice(), dims: (t.dims ?? []).map(Number) };
  };
  const w1 = get('W1');
  const b1 = get('b1');
  const w2 = get('W2');
  const b2 = get('b2');
  const [inSize, hidden] = w1.dims;
  const classes = w2.dims[1];
  if (
    inSize === undefined ||
    hidden === undefined ||
    classes === undefined ||
    w2.dims[0] !== hidden ||
    b1.values.length !== hidden ||
    b2.values.length !== classes
  ) {
    throw new Error(
      `ONNX initializers do not form an MLP: W1 [${w1.dims}], b1 ${b1.values.length}, W2 [${w2.dims}], ` +
        `b2 ${b2.values.length}`,
    );
  }
  return { sizes: [inSize, hidden, classes], w1: w1.values, b1: b1.values, w2: w2.values, b2: b2.values };
}
