/**
 * `pipeline_metrics.stage_index`: the position of each stage in the dataflow, written for a real run of a pipeline
 * with a branch and a merge, read back from DuckDB and ClickHouse 18.16 whose `pipeline_metrics` was created before
 * the column existed (the column is added; the old row reads null).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { describe, expect, inject, it } from 'vitest';
import { ArraySink } from '../kernel/memory/array-sink.ts';
import { MemoryTransport } from '../kernel/memory/memory-log.ts';
import { topicSource } from '../kernel/transport/topic-source.ts';
import { type Row, TABLES, type TableDef } from '../../connectors/warehouse/tables.ts';
import { openWarehouse, type Warehouse } from '../../connectors/warehouse/warehouse.ts';
import { decodeJson } from '../kernel/operators/basic/decode-json.ts';
import { Pipeline } from '../kernel/pipeline.ts';
import { runPipeline } from '../kernel/runner.ts';
import { recordRunMetrics } from './run-metrics.ts';

/** `pipeline_metrics` as it was before stage_index. */
const metricsBeforeIndex: TableDef = {
  ...TABLES.pipeline_metrics,
  columns: TABLES.pipeline_metrics.columns.filter((c) => c.name !== 'stage_index'),
};

/** source → decode → split → (even → evens sink | odd → doubled) → merged with even → all sink. */
async function branchyPipeline() {
  const transport = new MemoryTransport();
  await transport.ensureTopic('in', 1);
  const producer = await transport.producer();
  await producer.send(
    'in',
    Array.from({ length: 50 }, (_, i) => ({
      key: `k${i}`,
      value: Buffer.from(JSON.stringify({ n: i })),
      timestamp: 1_000 + i,
    })),
  );
  // Declared out of name order, so an alphabetical or by-count order would not pass by chance.
  const p = new Pipeline('order-test').deadLetters(new ArraySink('dead-letters'));
  const decoded = p
    .from(topicSource(transport, { topic: 'in', group: 'g' }))
    .through(decodeJson<{ n: number }>('z-decode'));
  const [even, odd] = decoded.branch('m-split', (v) => v.n % 2 === 0);
  even!.to(new ArraySink('sink:evens'));
  const doubled = odd!.map('a-double', (v) => ({ n: 2 * v.n }));
  doubled.merge('b-merge', even!).to(new ArraySink('sink:all'));
  return p;
}

/** Each node's downstream names, from the pipeline's graph. */
function edges(p: Pipeline): [string, string][] {
  return p.nodes.flatMap((n) => [...n.children.values()].flat().map((child): [string, string] => [n.name, child.name]));
}

async function writesStageIndex(wh: Warehouse, final: string): Promise<void> {
  await wh.query('DROP TABLE IF EXISTS pipeline_metrics');
  await wh.ensureTables([metricsBeforeIndex]);
  const old: Row = {
    id: 'old/source',
    version: 1,
    run_id: 'old',
    pipeline: 'order-test',
    stage: 'source',
    at: 1,
    records_in: 1,
    records_out: 1,
    dead_letters: 0,
    p50_ms: null,
    p99_ms: null,
  };
  await wh
    .sink<Row>(metricsBeforeIndex, (r) => r.value)
    .write([{ key: 'old', value: old, eventTime: 1, headers: {}, position: { topic: 't', partition: 0, offset: 0 } }]);
  await wh.ensureTables(['pipeline_metrics']);

  const pipeline = await branchyPipeline();
  const result = await runPipeline(pipeline, { untilIdle: true });
  await recordRunMetrics(wh, 'run-1', 'order-test', result.metrics);

  const rows = await wh.query(
    `SELECT run_id, stage, stage_index FROM pipeline_metrics ${final} ORDER BY run_id, stage_index`,
  );
  expect(rows[0]).toEqual({ run_id: 'old', stage: 'source', stage_index: null });
  const index = new Map(rows.slice(1).map((r) => [String(r.stage), Number(r.stage_index)]));
  const stages = rows.slice(1).map((r) => r.stage);
  expect(stages[0]).toMatch(/^source:/);
  expect(stages.at(-1)).toBe('dead-letters');
  expect([...index.values()]).toEqual(stages.map((_, i) => i));
  expect(new Set(stages)).toEqual(new Set([...pipeline.nodes.map((n) => n.name), 'dead-letters']));
  for (const [from, to] of edges(pipeline)) expect(index.get(from), `${from} → ${to}`).toBeLessThan(index.get(to)!);
}

describe('stage_index in pipeline_metrics', () => {
  it('follows the dataflow on DuckDB, added to a table created without it', async () => {
    const wh = await openWarehouse({
      home: mkdtempSync(join(tmpdir(), 'driftline-stage-index-')),
      clickhouseUrl: undefined,
    });
    try {
      await writesStageIndex(wh, '');
    } finally {
      await wh.close();
    }
  });

  it('follows the dataflow on ClickHouse 18.16, added to a table created without it', async () => {
    const url = inject('CLICKHOUSE_URL');
    const database = `driftline_stage_index_${process.pid}_${Date.now() % 100_000}`;
    const admin = createClient({ url });
    const wh = await openWarehouse({ home: '/nonexistent', clickhouseUrl: url }, { clickhouseDatabase: database });
    try {
      await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
      await writesStageIndex(wh, 'FINAL');
    } finally {
      await wh.close();
      await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await admin.close();
    }
  });
});
