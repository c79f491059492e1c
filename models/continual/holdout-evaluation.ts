/**
 * Scores ONNX models on the human-labelled holdout with ONNX Runtime — the runtime the infer operator uses, on the
 * exact bytes that are (or would be) registered. Runs inside the fine-tune worker: featurizing the holdout and
 * `session.run` both block the thread they run on. Rows are featurized in chunks so memory stays flat.
 */
import type * as ort from 'onnxruntime-node';
import { FEATURE_DIM, featurizeBatch, type PostingText } from '../postings/features.ts';
import { createSession, runOnnx } from '../postings/parity.ts';
import { type BinaryMetrics, CLASSES, binaryMetrics } from '../postings/train.ts';

const CHUNK = 256;

/** A model's figures on the holdout, with each row's top-class probability: what a calibration is fitted on. */
export interface HoldoutScore extends BinaryMetrics {
  topProbabilities: Float32Array;
  /** 1 where the top class was the label. */
  correct: Uint8Array;
}

export async function evaluateOnHoldout(
  models: ReadonlyArray<{ name: string; onnx: Uint8Array }>,
  texts: readonly PostingText[],
  labels: Int32Array,
): Promise<Record<string, HoldoutScore>> {
  if (texts.length !== labels.length) throw new Error(`holdout has ${texts.length} texts and ${labels.length} labels`);
  const sessions: ort.InferenceSession[] = [];
  try {
    for (const m of models) sessions.push(await createSession(m.onnx));
    const probs = models.map(() => new Float32Array(texts.length * CLASSES.length));
    const inputs = new Float32Array(CHUNK * FEATURE_DIM);
    for (let first = 0; first < texts.length; first += CHUNK) {
      const m = Math.min(CHUNK, texts.length - first);
      const x = featurizeBatch(texts.slice(first, first + m), inputs).subarray(0, m * FEATURE_DIM);
      for (let k = 0; k < sessions.length; k++) {
        probs[k]!.set(
          await runOnnx(models[k]!.onnx, x, [m, FEATURE_DIM], { session: sessions[k]! }),
          first * CLASSES.length,
        );
      }
    }
    // two classes: the top class is 1 when its probability is the larger
    const top = (p: Float32Array) => Float32Array.from(labels, (_, i) => Math.max(p[2 * i]!, p[2 * i + 1]!));
    const correct = (p: Float32Array) =>
      Uint8Array.from(labels, (label, i) => ((p[2 * i + 1]! > p[2 * i]! ? 1 : 0) === label ? 1 : 0));
    return Object.fromEntries(
      models.map((m, k) => [
        m.name,
        { ...binaryMetrics(probs[k]!, labels), topProbabilities: top(probs[k]!), correct: correct(probs[k]!) },
      ]),
    );
  } finally {
    for (const s of sessions) await s.release();
  }
}
