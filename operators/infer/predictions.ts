/**
 * Chunk results → output records for `infer`: one `{ input, predictions }` per record that every model scored, in
 * batch order; a record a model failed on, or whose row the inference thread found invalid, becomes a dead letter.
 */
import type { Prediction } from '../../schemas/prediction.ts';
import { type StreamRecord, withValue } from '../../streams/kernel/record.ts';
import type { StageOutput } from '../../streams/kernel/stage.ts';
import type { Chunk, ModelResult } from './inference-chunks.ts';
import type { Inferred } from './infer.ts';

export function inferredRecords<I>(
  valid: StreamRecord<I>[],
  chunks: Chunk[],
  recordId: (record: StreamRecord<I>) => string,
  out: StageOutput<unknown>,
): StreamRecord<Inferred<I>>[] {
  const output: StreamRecord<Inferred<I>>[] = [];
  const now = Date.now();
  for (const chunk of chunks) {
    for (let i = chunk.start; i < chunk.end; i++) {
      const record = valid[i]!;
      const results = chunk.models.map((m) => chunk.results.get(m.id)!);
      const failed = results.find((r) => r instanceof Error) as Error | undefined;
      if (failed) {
        out.deadLetter(record, failed);
        continue;
      }
      const invalid = (results as ModelResult[]).find((r) => r.outputRow[i - chunk.start]! < 0);
      if (invalid) {
        out.deadLetter(record, new Error(invalid.reasons.get(i - chunk.start)));
        continue;
      }
      const predictions = predictionsOf(recordId(record), chunk, results as ModelResult[], i - chunk.start, now);
      output.push(withValue(record, { input: record.value, predictions }));
    }
  }
  return output;
}

/** One Prediction per model of the chunk for its row `row`: label = argmax, confidence = max probability. */
function predictionsOf(id: string, chunk: Chunk, results: ModelResult[], row: number, now: number): Prediction[] {
  return chunk.models.map((m, j) => {
    const r = results[j]!;
    const offset = r.outputRow[row]! * r.classes;
    const probabilities = Array.from(r.probs.subarray(offset, offset + r.classes));
    let label = 0;
    for (let k = 1; k < probabilities.length; k++) if (probabilities[k]! > probabilities[label]!) label = k;
    return {
      record_id: id,
      model_id: m.id,
      model_version: r.version,
      label,
      probabilities,
      confidence: probabilities[label]!,
      latency_ms: r.latency,
      predicted_at: now,
    };
  });
}
