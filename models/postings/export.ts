/**
 * Trained postings MLP (tfjs weights) → ONNX with the driftline builder:
 *   input [batch, FEATURE_DIM] → MatMul W1 → Add b1 → Relu → MatMul W2 → Add b2 → Softmax → probabilities [batch, 2]
 * Metadata: `driftline.preprocessing` = 'postings-hashed-v1', `driftline.feature_dim`, `driftline.classes`, and the
 * lineage hashes when given.
 */
import { INPUT_NAME, OUTPUT_NAME } from '../model-contract.ts';
import { DataType, buildModel, initializer, node, valueInfo } from '../onnx/builder.ts';
import { FEATURE_DIM, PREPROCESSING } from './features.ts';
import { CLASSES, type MlpWeights } from './train.ts';

export interface ExportOptions {
  datasetHash?: string;
  configHash?: string;
}

export function exportMlpToOnnx(weights: MlpWeights, options: ExportOptions = {}): Uint8Array {
  const [inSize, hidden, classes] = weights.sizes;
  if (inSize !== FEATURE_DIM) throw new Error(`exportMlpToOnnx: input size ${inSize}, FEATURE_DIM is ${FEATURE_DIM}`);
  if (classes !== CLASSES.length) throw new Error(`exportMlpToOnnx: ${classes} outputs for ${CLASSES.length} classes`);
  const metadata: Record<string, string> = {
    'driftline.preprocessing': PREPROCESSING,
    'driftline.feature_dim': String(FEATURE_DIM),
    'driftline.classes': JSON.stringify(CLASSES),
  };
  if (options.datasetHash) metadata['driftline.dataset_hash'] = options.datasetHash;
  if (options.configHash) metadata['driftline.config_hash'] = options.configHash;
  return buildModel({
    name: 'postings-mlp',
    inputs: [valueInfo(INPUT_NAME, DataType.FLOAT, ['batch', inSize])],
    outputs: [valueInfo(OUTPUT_NAME, DataType.FLOAT, ['batch', classes])],
    initializers: [
      initializer('W1', [inSize, hidden], weights.w1),
      initializer('b1', [hidden], weights.b1),
      initializer('W2', [hidden, classes], weights.w2),
      initializer('b2', [classes], weights.b2),
    ],
    nodes: [
      node('MatMul', [INPUT_NAME, 'W1'], ['xw1']),
      node('Add', ['xw1', 'b1'], ['z1']),
      node('Relu', ['z1'], ['h1']),
      node('MatMul', ['h1', 'W2'], ['xw2']),
      node('Add', ['xw2', 'b2'], ['logits']),
      node('Softmax', ['logits'], [OUTPUT_NAME], { axis: -1 }),
    ],
    metadata,
  });
}
