/**
 * Issue 16: a Kafka broker killed (kill -9) mid-run and restarted 20 s later. The same `driftline run` process
 * waits it out and finishes; every warehouse table then equals a clean run's, alerts included (ClickHouse, FINAL).
 * Then the killed run's group is rewound and run again: every window is redelivered, and because derived rows' ids
 * are determined by their input, the tables still equal the clean run's (nothing doubled).
 *
 * The broker here is a private one (its own directory and ports, started by scripts/services.sh), so killing it
 * leaves the shared broker the other tests use alone.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparableRow } from '../../connectors/replay/wall-clock-columns.ts';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { dataFile } from '../data-dir.ts';
import { driftline, driftlineOk, exitOf, sleep } from '../e2e/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'driftline-broker-restart-'));
const broker = {
  DRIFTLINE_SERVICES_DIR: join(dir, 'services'),
  SERVICES: 'kafka',
  KAFKA_PORT: '19392',
  KAFKA_CONTROLLER_PORT: '19393',
  KAFKA_HEAP: '512m',
};
const brokers = `127.0.0.1:${broker.KAFKA_PORT}`;
const services = (command: 'up' | 'down') =>
  execFileSync('bash', ['scripts/services.sh', command], { env: { ...process.env, ...broker }, stdio: 'pipe' });
const brokerPid = () => Number(readFileSync(join(broker.DRIFTLINE_SERVICES_DIR, 'kafka.pid'), 'utf8'));

const stamp = Date.now().toString(36);
const databases = { killed: `driftline_killed_${stamp}`, clean: `driftline_clean_${stamp}` };
const TABLES = [
  'events',
  'event_anomaly_scores',
  'anomaly_alerts',
  'drift_metrics',
  'drift_alerts',
  'anomaly_scores',
  'dead_letters',
] as const;
const env = (database: string) => ({
  KAFKA_BROKERS: brokers,
  CLICKHOUSE_URL: process.env.CLICKHOUSE_URL,
  CLICKHOUSE_DATABASE: database,
  DRIFTLINE_HOME: join(dir, `home-${database}`),
  DRIFTLINE_DATA_DIR: dataFile(),
  DRIFTLINE_TOPIC_PREFIX: '',
});

let produced = 0;
beforeAll(async () => {
  services('up');
  // Two NAB series (17,586 events), published once; both runs read the same topic with their own groups.
  const input = join(dir, 'realKnownCause');
  mkdirSync(input);
  for (const f of ['ambient_temperature_system_failure.csv', 'nyc_taxi.csv'])
    copyFileSync(dataFile('events', 'nab', 'data', 'realKnownCause', f), join(input, f));
  produced = Number(
    /produced (\d+) records/.exec(await driftlineOk(['produce', 'events', input], env(databases.clean)))![1],
  );
}, 240_000);

afterAll(async () => {
  try {
    services('down');
  } catch {
    // already stopped
  }
  const warehouse = await openWarehouse({ home: dir, clickhouseUrl: process.env.CLICKHOUSE_URL });
  for (const db of Object.values(databases)) await warehouse.query(`DROP DATABASE IF EXISTS ${db}`).catch(() => {});
  await warehouse.close();
});

/** Every table's rows (FINAL: one per id), without wall-clock columns and with the run id replaced. */
async function tables(database: string, runId: string): Promise<Record<string, unknown[]>> {
  const warehouse = await openWarehouse(
    { home: dir, clickhouseUrl: process.env.CLICKHOUSE_URL },
    { clickhouseDatabase: database },
  );
  try {
    const out: Record<string, unknown[]> = {};
    for (const t of TABLES)
      out[t] = (await warehouse.query(`SELECT * FROM ${database}.${t} FINAL ORDER BY id`)).map((r) =>
        comparableRow(t, r, runId),
      );
    return out;
  } finally {
    await warehouse.close();
  }
}

/** Waits until the run has landed some of its input in the warehouse, not all: it is then mid-run. */
async function midRun(database: string): Promise<void> {
  const warehouse = await openWarehouse({ home: dir, clickhouseUrl: process.env.CLICKHOUSE_URL });
  try {
    for (let i = 0; i < 1200; i++) {
      const [row] = await warehouse.query(
        `SELECT count() AS n FROM system.tables WHERE database = '${database}' AND name = 'events'`,
      );
      const landed =
        Number(row?.n) > 0 ? Number((await warehouse.query(`SELECT count() AS n FROM ${database}.events`))[0]?.n) : 0;
      if (landed > 0) return void expect(landed).toBeLessThan(produced);
      await sleep(50);
    }
    throw new Error('the run landed nothing in 60 s');
  } finally {
    await warehouse.close();
  }
}

const runIdOf = (output: string) => /run (\S+) done/.exec(output)![1]!;

describe('a broker killed mid-run and restarted after 20 s', () => {
  let clean: Record<string, unknown[]>;
  let killedOutput = '';

  it('the same run process waits it out and finishes, exit 0, telling the outage in two lines', async () => {
    const run = driftline(['run', 'events', '--until-idle', '--group', 'killed'], env(databases.killed));
    await midRun(databases.killed);
    process.kill(brokerPid(), 'SIGKILL');
    await sleep(20_000);
    services('up');
    const code = await Promise.race([exitOf(run), sleep(150_000).then(() => 'still running after 150 s')]);
    killedOutput = run.output();
    if (code !== 0) {
      run.kill('SIGKILL');
      console.error(killedOutput);
    }
    expect({ code, output: killedOutput }).toMatchObject({ code: 0 });
    expect(killedOutput).toMatch(/kafka: broker unreachable .*retrying for up to 300 s/);
    expect(killedOutput).toMatch(/kafka: broker reachable again after \d+\.\d s/);
    expect(killedOutput.match(/kafka: broker unreachable/g)).toHaveLength(1);
    expect(killedOutput).not.toMatch(/^kafkajs: .*(ECONNREFUSED|Connection error)/m); // no line per attempt
  }, 240_000);

  it('every table equals a clean run of the same input, alerts included', async () => {
    const cleanOutput = await driftlineOk(['run', 'events', '--until-idle', '--group', 'clean'], env(databases.clean));
    clean = await tables(databases.clean, runIdOf(cleanOutput));
    const killed = await tables(databases.killed, runIdOf(killedOutput));
    expect(clean.events).toHaveLength(produced);
    expect(clean.drift_alerts.length).toBeGreaterThan(0);
    for (const t of TABLES) expect({ table: t, rows: killed[t] }).toEqual({ table: t, rows: clean[t] });
  }, 240_000);

  it('redelivering everything to the same group replaces rows instead of adding them', async () => {
    const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await admin.resetOffsets({ groupId: 'killed', topic: 'events', earliest: true });
    } finally {
      await admin.disconnect();
    }
    const output = await driftlineOk(['run', 'events', '--until-idle', '--group', 'killed'], env(databases.killed));
    expect(output).toContain(`${produced} records (`); // read again in full
    const again = await tables(databases.killed, runIdOf(output));
    for (const t of TABLES) expect({ table: t, rows: again[t] }).toEqual({ table: t, rows: clean[t] });
  }, 240_000);
});
