import type { Settings } from '../../config/settings.ts';
import { runTradeoffBench } from '../../bench/tradeoff/runner.ts';
import type { BenchResultRow } from '../../bench/tradeoff/result-rows.ts';

export interface DemoBench {
  runId: string;
  jsonPath: string;
  /** One line per model: its variants' SingleStream latency, accuracy and energy on ONNX Runtime. */
  highlights: string[];
}

/** `driftline bench --quick` (bench/tradeoff/), in process, on the demo's embedded warehouse. */
export async function runDemoBench(settings: Settings, log: (line: string) => void): Promise<DemoBench> {
  const result = await runTradeoffBench({ quick: true, settings, log });
  return { runId: result.runId, jsonPath: result.jsonPath, highlights: benchHighlights(result.rows) };
}

/**
 * Per model, each variant's SingleStream p50 on ONNX Runtime (its fastest thread count), held-out accuracy and
 * energy per 1,000 inferences with its method: `postings-a: fp32 0.061 ms · acc 0.912 · 0.02 J/1k (estimate) | int8 …`.
 */
export function benchHighlights(rows: BenchResultRow[]): string[] {
  const single = rows.filter((r) => r.scenario === 'SingleStream' && r.backend === 'onnxruntime' && r.p50_ms !== null);
  const byModel = new Map<string, Map<string, BenchResultRow>>();
  for (const r of single) {
    const variants = byModel.get(r.model_id) ?? new Map<string, BenchResultRow>();
    const best = variants.get(r.variant);
    if (!best || r.p50_ms! < best.p50_ms!) variants.set(r.variant, r);
    byModel.set(r.model_id, variants);
  }
  return [...byModel].map(([model, variants]) => {
    const parts = [...variants.values()].map(
      (r) =>
        `${r.variant} ${r.p50_ms!.toFixed(3)} ms · acc ${r.accuracy === null ? '—' : r.accuracy.toFixed(3)} ` +
        `· ${r.energy_j_per_1k.toFixed(3)} J/1k (${r.energy_method})`,
    );
    return `${model}: ${parts.join(' | ')}`;
  });
}
