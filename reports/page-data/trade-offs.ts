/**
 * Trade-offs: the latest `driftline bench` run, one point per model × variant × backend × batch size × threads, with
 * the Pareto frontier over latency, accuracy, energy and memory (per model: variants of different models are not
 * alternatives to each other).
 */
import { canonicalRows, num } from './canonical.ts';
import type { PageExport } from './page.ts';
import { paretoFrontier, type Objective } from './pareto.ts';
import { sqlString, type Row } from '../../connectors/warehouse/warehouse-reader.ts';

const RESULT_COLUMNS = [
  'model_id',
  'model_version',
  'variant',
  'backend',
  'scenario',
  'batch_size',
  'threads',
  'repeats',
  'p50_ms',
  'p90_ms',
  'p99_ms',
  'p50_ms_min',
  'p50_ms_max',
  'items_per_s',
  'items_per_s_min',
  'items_per_s_max',
  'server_rate',
  'server_bound_ms',
  'peak_rss_mb',
  'model_bytes',
  'model_memory_mb',
  'energy_j_per_1k',
  'energy_method',
  'accuracy',
  'heldout_rows',
] as const;

const RUN_COLUMNS = [
  'run_id',
  'started_at',
  'ended_at',
  'quick',
  'cpu_model',
  'cores',
  'memory_gb',
  'node_version',
  'onnxruntime_version',
  'tfjs_version',
  'energy_method',
  'watts_per_core',
  'repeats',
] as const;

/** Lower latency, higher accuracy, less energy, less memory (the model's own share, not the whole process's). */
export const TRADE_OFF_OBJECTIVES: Objective<Row>[] = [
  { value: (r) => num(r.p50_ms), goal: 'min' },
  { value: (r) => num(r.accuracy), goal: 'max' },
  { value: (r) => num(r.energy_j_per_1k), goal: 'min' },
  { value: (r) => num(r.model_memory_mb) ?? num(r.peak_rss_mb), goal: 'min' },
];

/** Marks `pareto` on every row: true when it is on its model's frontier over TRADE_OFF_OBJECTIVES. */
export function markFrontier(rows: Row[]): Row[] {
  const byModel = new Map<string, Row[]>();
  for (const r of rows) byModel.set(String(r.model_id), [...(byModel.get(String(r.model_id)) ?? []), r]);
  const out: Row[] = [];
  for (const group of byModel.values()) {
    const on = paretoFrontier(group, TRADE_OFF_OBJECTIVES);
    group.forEach((r, i) => {
      out.push({ ...r, pareto: on[i] });
    });
  }
  return out;
}

export const tradeOffsPage: PageExport = {
  name: 'trade-offs',
  tables: ['bench_runs', 'bench_results'],
  async export(reader) {
    const runs = canonicalRows(
      await reader.rows(`SELECT ${RUN_COLUMNS.join(', ')} FROM ${reader.from('bench_runs')}`),
      ['-started_at', 'run_id'],
    );
    const latest = runs[0];
    if (!latest) return { runs: [], data: { bench_run: null, results: [] } };
    const results = await reader.rows(
      `SELECT ${RESULT_COLUMNS.join(', ')} FROM ${reader.from('bench_results')} WHERE run_id ` +
        `= ${sqlString(String(latest.run_id))}`,
    );
    // The frontier is about deploying one model variant: one point per configuration, latency from SingleStream.
    const singleStream = markFrontier(results.filter((r) => r.scenario === 'SingleStream'));
    const others = results.filter((r) => r.scenario !== 'SingleStream').map((r) => ({ ...r, pareto: null }));
    return {
      runs: [{ pipeline: 'bench', run_id: String(latest.run_id), at: num(latest.ended_at) ?? 0 }],
      data: {
        bench_run: latest,
        results: canonicalRows(
          [...singleStream, ...others],
          ['model_id', 'scenario', 'variant', 'backend', 'batch_size', 'threads'],
        ),
      },
    };
  },
};
