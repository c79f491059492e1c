import { randomUUID } from 'node:crypto';
import { compositeId } from '../../connectors/warehouse/tables.ts';
import type { Warehouse } from '../../connectors/warehouse/warehouse.ts';
import type { StageSnapshot } from '../kernel/metrics.ts';
import type { StreamRecord } from '../kernel/record.ts';
import type { RunResult } from '../kernel/runner.ts';

export const newRunId = () =>
  `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomUUID().slice(0, 8)}`;

/**
 * The run id of `driftline run` with consumer group `group`: the same for every restart, so the results' ids (which
 * include it) are determined by their input and a redelivered window replaces its rows. Replays get fresh ids.
 */
export const liveRunId = (group: string) => `live-${group}`;

/**
 * Stores a run's per-stage metrics in `pipeline_metrics`, so throughput and dead letters can be queried later.
 * `metrics` come in the runner's order, which is the dataflow's: the pipeline adds each node after its upstream (the
 * source first) and the dead-letter stage goes last, so a stage's index there is its `stage_index`.
 */
export async function recordRunMetrics(
  warehouse: Warehouse,
  runId: string,
  pipeline: string,
  metrics: StageSnapshot[],
): Promise<void> {
  const at = Date.now();
  const sink = warehouse.sink<{ snapshot: StageSnapshot; index: number }>('pipeline_metrics', (r) => ({
    id: compositeId(runId, r.value.snapshot.stage),
    version: at,
    run_id: runId,
    pipeline,
    stage: r.value.snapshot.stage,
    stage_index: r.value.index,
    at,
    records_in: r.value.snapshot.recordsIn,
    records_out: r.value.snapshot.recordsOut,
    dead_letters: r.value.snapshot.deadLetters,
    p50_ms: r.value.snapshot.batchLatencyP50Ms,
    p99_ms: r.value.snapshot.batchLatencyP99Ms,
  }));
  const records: StreamRecord<{ snapshot: StageSnapshot; index: number }>[] = metrics.map((snapshot, index) => ({
    key: snapshot.stage,
    value: { snapshot, index },
    eventTime: at,
    headers: {},
    position: { topic: `run:${runId}`, partition: 0, offset: index },
  }));
  await sink.write(records);
  await sink.close?.();
}

/** How a run read its input and where it wrote: the `pipeline_runs` row's context. */
export interface RunContext {
  runId: string;
  pipeline: string;
  mode: 'run' | 'replay' | 'bench';
  /** `files` for --input, else the transport the source read. */
  transport: 'kafka' | 'embedded' | 'memory' | 'files';
  warehouse: Warehouse['kind'];
}

/**
 * The `pipeline_runs` row of a finished run: throughput, end-to-end latency and consumer lag (column docs: tables.ts).
 */
export function pipelineRunRow(context: RunContext, result: RunResult) {
  const seconds = Math.max(result.endedAt - result.startedAt, 1) / 1000;
  return {
    // One row per process: a live run id is shared by its restarts.
    id: compositeId(context.runId, context.pipeline, result.startedAt),
    version: result.endedAt,
    run_id: context.runId,
    pipeline: context.pipeline,
    mode: context.mode,
    transport: context.transport,
    warehouse: context.warehouse,
    started_at: result.startedAt,
    ended_at: result.endedAt,
    records_in: result.recordsIn,
    records_per_s: result.recordsIn / seconds,
    e2e_p50_ms: result.endToEnd?.p50Ms ?? null,
    e2e_p99_ms: result.endToEnd?.p99Ms ?? null,
    max_consumer_lag: result.maxConsumerLag,
    dead_letters: result.deadLetters,
    late_records: lateRecords(result.metrics),
  };
}

/** Writes one `pipeline_runs` row for a run or replay. */
export async function recordRun(warehouse: Warehouse, context: RunContext, result: RunResult): Promise<void> {
  const sink = warehouse.sink<RunResult>('pipeline_runs', (r) => pipelineRunRow(context, r.value));
  await sink.write([
    {
      key: context.runId,
      value: result,
      eventTime: result.endedAt,
      headers: {},
      position: { topic: `run:${context.runId}`, partition: 0, offset: 0 },
    },
  ]);
  await sink.close?.();
}

/** Records a run's windows received after they had closed (their `late` side outputs), over all stages. */
export const lateRecords = (metrics: readonly StageSnapshot[]) => metrics.reduce((sum, m) => sum + m.late, 0);
