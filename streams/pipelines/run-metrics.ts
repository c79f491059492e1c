import { randomUUID } from 'node:crypto';
import { compositeId } from '../../connectors/warehouse/tables.ts';
import type { Warehouse } from '../../connectors/warehouse/warehouse.ts';
import type { StageSnapshot } from '../metrics.ts';
import type { StreamRecord } from '../record.ts';

export const newRunId = () => `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomUUID().slice(0, 8)}`;

/** Stores a run's per-stage metrics in `pipeline_metrics`, so throughput and dead letters can be queried later. */
export async function recordRunMetrics(warehouse: Warehouse, runId: string, pipeline: string, metrics: StageSnapshot[]): Promise<void> {
  const at = Date.now();
  const sink = warehouse.sink<StageSnapshot>('pipeline_metrics', (r) => ({
    id: compositeId(runId, r.value.stage),
    version: at,
    run_id: runId,
    pipeline,
    stage: r.value.stage,
    at,
    records_in: r.value.recordsIn,
    records_out: r.value.recordsOut,
    dead_letters: r.value.deadLetters,
    p50_ms: r.value.batchLatencyP50Ms,
    p99_ms: r.value.batchLatencyP99Ms,
  }));
  const records: StreamRecord<StageSnapshot>[] = metrics.map((m, i) => ({
    key: m.stage,
    value: m,
    eventTime: at,
    headers: {},
    position: { topic: `run:${runId}`, partition: 0, offset: i },
  }));
  await sink.write(records);
  await sink.close?.();
}
