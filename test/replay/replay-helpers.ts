import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedLogTransport } from '../../connectors/embedded-log/embedded-log.ts';
import { replayLogDir } from '../../connectors/replay/replay-outputs.ts';
import { comparableRow } from '../../connectors/replay/wall-clock-columns.ts';
import { TABLE_NAMES } from '../../connectors/warehouse/tables.ts';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { driftlineOk } from '../e2e/cli.ts';
import { readAll } from '../kafka/kafka-test-helpers.ts';

export const tempHome = (name: string) => mkdtempSync(join(tmpdir(), `driftline-replay-${name}-`));

/** Runs `driftline replay` to completion; returns the run id it printed. */
export async function replay(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const output = await driftlineOk(['replay', ...args], env);
  const runId = /replay run (\S+) done/.exec(output)?.[1];
  if (!runId) throw new Error(`no run id in the replay's output:\n${output}`);
  return runId;
}

const canonical = (row: Record<string, unknown>) =>
  JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

/**
 * Every table of the embedded warehouse under `home`, as sorted canonical rows without the wall-clock columns and
 * with `runId` masked: two runs over the same input must give equal snapshots, whatever stages a pipeline has.
 */
export async function warehouseSnapshot(home: string, runId: string): Promise<Record<string, string[]>> {
  const warehouse = await openWarehouse({ home });
  try {
    const snapshot: Record<string, string[]> = {};
    for (const table of TABLE_NAMES) {
      if (table === 'pipeline_runs') continue; // describes the run itself (run or replay, how fast): differs by design
      const rows = await warehouse.query(`SELECT * FROM ${table}`).catch(() => []); // a table created by nobody yet
      snapshot[table] = rows.map((r) => canonical(comparableRow(table, r, runId))).sort();
    }
    return snapshot;
  } finally {
    await warehouse.close();
  }
}

/** The JSON values of a topic a replay wrote to its own side-output log, in topic order. */
export const replayTopic = (home: string, runId: string, topic: string) =>
  jsonTopic(replayLogDir({ home }, runId), topic);

/** The JSON values of a topic of the live embedded log under `home`. */
export const liveTopic = (home: string, topic: string) => jsonTopic(join(home, 'log'), topic);

async function jsonTopic(dir: string, topic: string): Promise<unknown[]> {
  const log = new EmbeddedLogTransport({ dir });
  try {
    return (await readAll(log, topic)).map((m) => JSON.parse(m.value.toString()));
  } finally {
    await log.close();
  }
}

/** Timestamps of a NAB `timestamp,value` file, read here independently of the connectors (zone-less = UTC). */
export function nabTimestamps(file: string): number[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');
  return lines.map((l) => Date.parse(`${l.split(',')[0]!.trim().replace(' ', 'T')}Z`));
}

export const iso = (ms: number) => new Date(ms).toISOString();
