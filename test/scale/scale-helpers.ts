import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { comparableRow } from '../../connectors/replay/wall-clock-columns.ts';
import { TABLE_NAMES } from '../../connectors/warehouse/tables.ts';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { liveRunId } from '../../streams/pipelines/run-metrics.ts';
import { driftline, exitOf } from '../e2e/cli.ts';
import { uniqueName } from '../kafka/kafka-test-helpers.ts';

/** Tables that describe a run rather than its results: they differ by design between one worker and several. */
const RUN_TABLES = new Set(['pipeline_runs', 'pipeline_metrics']);
/** Columns that name an input position: a record's partition and offset depend on how many partitions the topic has. */
const POSITION_COLUMNS: Record<string, string[]> = {
  dead_letters: ['id', 'partition', 'offset'],
  label_queue: ['payload_ref'],
};

/** One run's place: its topic prefix (so its own topics and group), its ClickHouse database, its run id. */
export interface RunPlace {
  prefix: string;
  database: string;
  runId: string;
  env: NodeJS.ProcessEnv;
}

/** A fresh prefix and database for pipeline `name`, with `base` (home, registry, config) in the environment. */
export function runPlace(name: string, pipeline: string, base: NodeJS.ProcessEnv): RunPlace {
  const prefix = `${uniqueName(name)}.`;
  const database = `driftline_${name}_${Date.now().toString(36)}`;
  const env = { ...base, DRIFTLINE_TOPIC_PREFIX: prefix, CLICKHOUSE_DATABASE: database };
  return { prefix, database, runId: liveRunId(`${prefix}driftline-${pipeline}`), env };
}

/** A config file giving `pipeline` these options. */
export function configFile(pipeline: string, options: object): string {
  const file = join(mkdtempSync(join(tmpdir(), 'driftline-scale-')), 'config.json');
  writeFileSync(file, JSON.stringify({ pipelines: { [pipeline]: options } }));
  return file;
}

/** Every result table of a ClickHouse database (latest row per id), without run ids and wall-clock columns, sorted. */
export async function clickhouseSnapshot(place: RunPlace): Promise<Record<string, string[]>> {
  const warehouse = await openWarehouse({
    home: String(place.env.DRIFTLINE_HOME),
    clickhouseUrl: process.env.CLICKHOUSE_URL,
    clickhouseDatabase: place.database,
  });
  try {
    const snapshot: Record<string, string[]> = {};
    for (const table of TABLE_NAMES) {
      if (RUN_TABLES.has(table)) continue;
      const rows = await warehouse.query(`SELECT * FROM ${table} FINAL`).catch(() => []);
      const positions = POSITION_COLUMNS[table] ?? [];
      snapshot[table] = rows
        .map((r) => comparableRow(table, r, place.runId))
        .map((r) => canonical(Object.fromEntries(Object.entries(r).filter(([c]) => !positions.includes(c)))))
        .sort();
    }
    return snapshot;
  } finally {
    await warehouse.close();
  }
}

const canonical = (row: Record<string, unknown>) =>
  JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

export async function dropDatabase(place: RunPlace): Promise<void> {
  const warehouse = await openWarehouse({
    home: String(place.env.DRIFTLINE_HOME),
    clickhouseUrl: process.env.CLICKHOUSE_URL,
    clickhouseDatabase: place.database,
  });
  await warehouse.query(`DROP DATABASE IF EXISTS ${place.database}`).catch(() => {});
  await warehouse.close();
}

/** `n` `driftline run <pipeline> --scale-out --until-idle` workers in one group. */
export function startWorkers(n: number, pipeline: string, args: string[], env: NodeJS.ProcessEnv) {
  return Array.from({ length: n }, () => driftline(['run', pipeline, '--scale-out', '--until-idle', ...args], env));
}

/** Waits for every worker; fails with their output when one did not exit 0. */
export async function allExitOk(workers: ReturnType<typeof startWorkers>): Promise<void> {
  const codes = await Promise.all(workers.map(exitOf));
  const failed = codes.map((c, i) => [c, i] as const).filter(([c]) => c !== 0);
  if (failed.length > 0)
    throw new Error(failed.map(([c, i]) => `worker ${i} exited ${c}:\n${workers[i]!.output()}`).join('\n'));
}

/**
 * The tables whose rows differ, each with a few rows found on one side only: empty when the snapshots are equal.
 * (A whole-snapshot `toEqual` on thousands of rows shows no useful diff.)
 */
export function differences(actual: Record<string, string[]>, expected: Record<string, string[]>): string[] {
  const out: string[] = [];
  for (const table of new Set([...Object.keys(actual), ...Object.keys(expected)])) {
    const a = actual[table] ?? [];
    const e = expected[table] ?? [];
    const onlyA = a.filter((r) => !e.includes(r));
    const onlyE = e.filter((r) => !a.includes(r));
    if (onlyA.length === 0 && onlyE.length === 0 && a.length === e.length) continue;
    out.push(
      `${table}: ${a.length} rows vs ${e.length}; only here: ${onlyA.slice(0, 2).join(' ')}; ` +
        `only in the reference: ${onlyE.slice(0, 2).join(' ')}`,
    );
  }
  return out;
}
