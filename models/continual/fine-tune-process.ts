/**
 * Inside the fine-tune worker process (started through fine-tune-worker.js). Large lists arrive beforehand in chunks,
 * `{ type: 'stage', key, items }` (not answered), and a request names them by key. Requests, each answered with
 * `{ id, ... }` or `{ id, error }`:
 *
 *   { type: 'fine-tune', parentOnnx, examplesKey (FineTuneExample[]), config, datasetHash, configHash }
 *       → { onnx, losses, featurizeSeconds, trainSeconds, exportSeconds, batchesPerEpoch, humanPerBatch, maxRssMb }
 *     The parent's weights are read from its ONNX bytes, fine-tuned, and the result exported to ONNX here, so the
 *     main thread only ever handles bytes.
 *   { type: 'evaluate', models: { name, onnx }[], textsKey (PostingText[]), labels: Int32Array } → { metrics: { name:
 *   BinaryMetrics } }
 *
 * Requests run one after another. The process lowers its own CPU priority (nice), which orders it behind the
 * pipeline's process where the kernel weighs processes by nice (no autogroups).
 */
import { setPriority } from 'node:os';
import { exportMlpToOnnx } from '../postings/export.ts';
import { type FineTuneConfig, type FineTuneExample, fineTuneMlp } from './fine-tune.ts';
import { evaluateOnHoldout } from './holdout-evaluation.ts';
import { mlpWeightsFromOnnx } from './onnx-weights.ts';
import type { PostingText } from '../postings/features.ts';

type Request =
  | {
      id: number;
      type: 'fine-tune';
      parentOnnx: Uint8Array;
      examplesKey: number;
      config: FineTuneConfig;
      datasetHash: string;
      configHash: string;
    }
  | {
      id: number;
      type: 'evaluate';
      models: { name: string; onnx: Uint8Array }[];
      textsKey: number;
      labels: Int32Array;
    };
type Stage = { type: 'stage'; key: number; items: unknown[] };

const staged = new Map<number, unknown[]>();
function takeStaged<T>(key: number): T[] {
  const items = staged.get(key);
  if (!items) throw new Error(`nothing staged under key ${key}`);
  staged.delete(key);
  return items as T[];
}

const nice = Number(process.argv[2] ?? 0); // fine-tune-client.ts passes it
if (nice > 0) {
  try {
    setPriority(nice);
  } catch {
    // not permitted: run at normal priority
  }
}
const send = (message: Record<string, unknown>): void => {
  process.send!(message);
};

async function handle(request: Request): Promise<void> {
  if (request.type === 'fine-tune') {
    const examples = takeStaged<FineTuneExample>(request.examplesKey);
    const result = await fineTuneMlp(mlpWeightsFromOnnx(request.parentOnnx), examples, request.config);
    const t0 = performance.now();
    const onnx = exportMlpToOnnx(result.weights, { datasetHash: request.datasetHash, configHash: request.configHash });
    const exportSeconds = (performance.now() - t0) / 1000;
    const { weights: _weights, ...figures } = result;
    send({ id: request.id, onnx, exportSeconds, ...figures, maxRssMb: process.resourceUsage().maxRSS / 1024 });
  } else if (request.type === 'evaluate') {
    const texts = takeStaged<PostingText>(request.textsKey);
    const metrics = await evaluateOnHoldout(request.models, texts, request.labels);
    send({ id: request.id, metrics });
  } else {
    throw new Error(`unknown request type ${(request as { type: unknown }).type}`);
  }
}

let queue = Promise.resolve();
process.on('message', (request: Request | Stage) => {
  if (request.type === 'stage') {
    // Chunks only append: taken at once, in order, before the request that names them (the IPC channel is FIFO).
    const list = staged.get(request.key) ?? [];
    for (const item of request.items) list.push(item);
    staged.set(request.key, list);
    return;
  }
  queue = queue.then(() =>
    handle(request).catch((error: unknown) =>
      send({ id: request.id, error: error instanceof Error ? error.message : String(error) }),
    ),
  );
});
