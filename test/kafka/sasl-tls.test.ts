/**
 * Kafka over SASL_SSL against a real broker: a second single-node Kafka 3.9.1 that `scripts/services.sh
 * secure-kafka-up` starts with only a SASL_SSL listener (its own CA and broker certificate, SCRAM users made by
 * `kafka-storage format --add-scram`, PLAIN users in its JAAS config). The shared broker on 9092 is not touched.
 *
 * Shown: `produce` and `run --until-idle` over SCRAM-SHA-512 land every record in the warehouse; PLAIN, SCRAM-SHA-256
 * and a client certificate connect too; a wrong password fails at once (no retries) naming KAFKA_SASL_PASSWORD; a
 * missing CA file names KAFKA_SSL_CA_FILE; and the password is in no output, no file under DRIFTLINE_HOME and no
 * warehouse row.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { KafkaTransport } from '../../connectors/kafka/kafka-transport.ts';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { dataFile } from '../data-dir.ts';
import { driftline, exitOf } from '../e2e/cli.ts';
import { uniqueName } from './kafka-test-helpers.ts';

const SERVICES_DIR = process.env.DRIFTLINE_SERVICES_DIR ?? '.services';
const SECURE_KAFKA_DIR = join(SERVICES_DIR, 'secure-kafka');
const WRONG_PASSWORD = 'wr0ng-kafka-PASS-789';
const EVENTS = 3_000;

const home = mkdtempSync(join(tmpdir(), 'driftline-sasl-'));
const input = join(home, 'input', 'nyc_taxi.csv');
const prefix = `${uniqueName('sasl')}.`;
/** The broker's client settings (KAFKA_BROKERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_CA_FILE). */
let secure: Record<string, string> = {};
const outputs: Record<string, string> = {};

beforeAll(() => {
  // Reuses a running secure broker in well under a second; a first start takes ~30 s (the JVM and the format).
  execFileSync('bash', ['scripts/services.sh', 'secure-kafka-up'], { stdio: 'inherit' });
  const lines = readFileSync(join(SECURE_KAFKA_DIR, 'client.env'), 'utf8').split('\n').filter(Boolean);
  secure = Object.fromEntries(lines.map((line) => line.split(/=(.*)/s).slice(0, 2)));
  mkdirSync(join(home, 'input'));
  // The first 3,000 events of nyc_taxi: enough for the events pipeline's drift windows, quick to run.
  const csv = readFileSync(dataFile('events/nab/data/realKnownCause/nyc_taxi.csv'), 'utf8');
  writeFileSync(
    input,
    csv
      .split('\n')
      .slice(0, EVENTS + 1)
      .join('\n'),
  );
}, 150_000);

afterAll(() => rmSync(home, { recursive: true, force: true }));

/** The environment of a driftline command against the secure broker, with the embedded (DuckDB) warehouse. */
const env = (overrides: Record<string, string> = {}) => ({
  ...secure,
  DRIFTLINE_HOME: home,
  CLICKHOUSE_URL: '',
  DRIFTLINE_TOPIC_PREFIX: prefix,
  ...overrides,
});

/** A transport built from the settings as the commands build theirs (connectors/open-transport.ts). */
function secureTransport(overrides: Record<string, string>): KafkaTransport {
  const settings = loadSettings(env(overrides));
  const { kafkaBrokers, kafkaSecurity } = settings;
  return new KafkaTransport({ brokers: kafkaBrokers!, security: kafkaSecurity, clientId: 'driftline-test' });
}

/** Runs a driftline command; returns its exit code and keeps its stdout + stderr for the scan. */
async function command(name: string, args: string[], overrides: Record<string, string> = {}): Promise<number | null> {
  const child = driftline(args, env(overrides));
  const code = await exitOf(child);
  outputs[name] = child.output();
  return code;
}

/** Every regular file under `dir` (links not followed). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = lstatSync(path);
    return stat.isDirectory() ? filesUnder(path) : stat.isFile() ? [path] : [];
  });
}

describe('Kafka over SASL_SSL (SCRAM-SHA-512, the script-made CA)', () => {
  it('produce and run --until-idle land every event in the warehouse', async () => {
    expect(secure.KAFKA_SECURITY_PROTOCOL).toBe('SASL_SSL');
    expect(await command('produce', ['produce', 'events', input]), outputs.produce).toBe(0);
    expect(await command('run', ['run', 'events', '--until-idle']), outputs.run).toBe(0);
    const warehouse = await openWarehouse({ home });
    try {
      const [events] = await warehouse.query('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM events');
      expect({ n: Number(events!.n), ids: Number(events!.ids) }).toEqual({ n: EVENTS, ids: EVENTS });
      const runs = await warehouse.query('SELECT pipeline, mode, transport, records_in FROM pipeline_runs');
      expect(runs.map((r) => ({ ...r, records_in: Number(r.records_in) }))).toEqual([
        { pipeline: 'events', mode: 'run', transport: 'kafka', records_in: EVENTS },
      ]);
    } finally {
      await warehouse.close();
    }
  }, 120_000);

  it.each([
    ['PLAIN', {}],
    ['SCRAM-SHA-256', {}],
    ['SCRAM-SHA-512', { KAFKA_SSL_CERT_FILE: 'client.pem', KAFKA_SSL_KEY_FILE: 'client.key' }],
  ])(
    '%s %o connects, creates a topic and writes to it',
    async (mechanism, certs: Record<string, string>) => {
      const files = Object.fromEntries(Object.entries(certs).map(([k, v]) => [k, join(SECURE_KAFKA_DIR, 'certs', v)]));
      const transport = secureTransport({ KAFKA_SASL_MECHANISM: mechanism, ...files });
      const topic = `${prefix}${mechanism.toLowerCase()}`;
      try {
        await transport.ensureTopic(topic, 1);
        const producer = await transport.producer();
        await producer.send(topic, [{ key: 'k', value: Buffer.from(mechanism), timestamp: Date.now(), headers: {} }]);
        expect(await transport.endOffsets(topic)).toEqual(new Map([[0, 1]]));
      } finally {
        await transport.close();
      }
    },
    60_000,
  );

  it('a wrong password is refused at once, naming KAFKA_SASL_PASSWORD', async () => {
    // In process, to time the connection alone (a command's start-up is most of its time on a busy machine).
    const transport = secureTransport({ KAFKA_SASL_PASSWORD: WRONG_PASSWORD });
    const started = Date.now();
    const error = await transport.ensureTopic(`${prefix}refused`, 1).then(
      () => undefined,
      (e: Error) => e,
    );
    const elapsedMs = Date.now() - started;
    await transport.close();
    expect(error?.message).toMatch(
      /Kafka refused the SCRAM-SHA-512 login of user "driftline": check KAFKA_SASL_PASSWORD/,
    );
    expect(elapsedMs).toBeLessThan(10_000); // the bound: refused, not retried (~1 s here)

    // And through the command: exit 1 with the same advice.
    const wrong = { KAFKA_SASL_PASSWORD: WRONG_PASSWORD };
    expect(await command('wrong-password', ['produce', 'events', input], wrong)).toBe(1);
    expect(outputs['wrong-password']).toMatch(/driftline: Kafka refused .* check KAFKA_SASL_PASSWORD/);
  }, 60_000);

  it('a missing CA file is named before any connection', async () => {
    const missing = join(home, 'no-such-ca.pem');
    expect(await command('missing-ca', ['run', 'events', '--until-idle'], { KAFKA_SSL_CA_FILE: missing })).toBe(1);
    expect(outputs['missing-ca']).toContain(`driftline: KAFKA_SSL_CA_FILE: cannot read ${missing} (no such file)`);
  }, 30_000);

  it('the password appears in no output, no file under DRIFTLINE_HOME and no warehouse row', async () => {
    expect(Object.keys(outputs).sort()).toEqual(['missing-ca', 'produce', 'run', 'wrong-password']);
    const secrets = [secure.KAFKA_SASL_PASSWORD!, WRONG_PASSWORD];
    expect(secrets[0]).toMatch(/^[0-9a-f]{24}$/); // made by the script: unique, so a hit could only be a leak
    for (const [name, output] of Object.entries(outputs)) {
      for (const s of secrets) expect(output, name).not.toContain(s);
    }

    // The broker's own log too: it records the refused login, and must not quote it.
    const files = [...filesUnder(home), join(SERVICES_DIR, 'logs', 'secure-kafka.log')];
    expect(files.some((f) => f.endsWith('warehouse.duckdb'))).toBe(true);
    for (const file of files) for (const s of secrets) expect(readFileSync(file).includes(s), file).toBe(false);

    const warehouse = await openWarehouse({ home });
    try {
      const listed = await warehouse.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema='main'",
      );
      const tables = listed.map((t) => String(t.table_name));
      expect(tables).toContain('pipeline_runs');
      let rows = 0;
      for (const table of tables) {
        const all = await warehouse.query(`SELECT * FROM ${table}`);
        const text = JSON.stringify(all, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
        rows += all.length;
        for (const s of secrets) expect(text.includes(s), table).toBe(false);
      }
      expect(rows).toBeGreaterThan(EVENTS); // the events and everything derived from them were read
    } finally {
      await warehouse.close();
    }
  });
});
