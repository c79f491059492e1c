/**
 * Secrets never leave: with a password in CLICKHOUSE_URL (or CLICKHOUSE_USER / CLICKHOUSE_PASSWORD), `run`, `replay`
 * and `report build` work against a ClickHouse that enforces it, and the password is in no output, no file under
 * DRIFTLINE_HOME and no warehouse row; neither is a wrong password in the error of a rejected connection.
 *
 * ClickHouse 18.16 has no CREATE USER (users live in its XML config), so the test runs a private server (own ports
 * and data, as the outage test does) whose `users.d/` adds a user `analyst` with a password (stored as its sha256).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataFile } from '../data-dir.ts';
import { driftline, exitOf } from '../e2e/cli.ts';

const PASSWORD = 's3cr3t-XYZ';
const WRONG_PASSWORD = 'wr0ng-PASS-456';
/** A port nothing listens on now: the server is private, so concurrent runs of this test must not meet on one. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
const HTTP_PORT = await freePort();
const TCP_PORT = await freePort();
const host = `127.0.0.1:${HTTP_PORT}`;
const url = (password: string) => `http://analyst:${password}@${host}`;
/** Every form the password could be written in: as is, percent-encoded, and inside a Basic auth header. */
const forms = (password: string) => [
  password,
  encodeURIComponent(password),
  Buffer.from(`analyst:${password}`).toString('base64'),
];

const servicesDir = mkdtempSync(join(tmpdir(), 'driftline-secrets-services-'));
const home = mkdtempSync(join(tmpdir(), 'driftline-secrets-'));
const services = (action: 'up' | 'down') =>
  execFileSync('bash', ['scripts/services.sh', action], {
    env: {
      ...process.env,
      SERVICES: 'clickhouse',
      DRIFTLINE_SERVICES_DIR: servicesDir,
      CLICKHOUSE_HTTP_PORT: String(HTTP_PORT),
      CLICKHOUSE_TCP_PORT: String(TCP_PORT),
    },
    stdio: 'inherit',
  });
// Its own database too, should the port answer with a server left over from an earlier run.
const database = `secrets_${process.pid}_${Date.now() % 100_000}`;
const env = (clickhouseUrl: string) => ({
  DRIFTLINE_HOME: home,
  CLICKHOUSE_URL: clickhouseUrl,
  CLICKHOUSE_DATABASE: database,
  KAFKA_BROKERS: '',
  DRIFTLINE_TOPIC_PREFIX: '',
});
const outputs: Record<string, string> = {};

/** Runs a driftline command; returns its exit code and keeps its stdout + stderr for the scan. */
async function command(
  name: string,
  args: string[],
  clickhouseUrl = url(PASSWORD),
  vars: Record<string, string> = {},
): Promise<number | null> {
  const child = driftline(args, { ...env(clickhouseUrl), ...vars });
  const code = await exitOf(child);
  outputs[name] = child.output();
  return code;
}

function usersConfig(): string {
  const sha256 = createHash('sha256').update(PASSWORD).digest('hex');
  return `<?xml version="1.0"?>
<yandex><users><analyst>
  <password_sha256_hex>${sha256}</password_sha256_hex>
  <networks><ip>::/0</ip></networks>
  <profile>default</profile>
  <quota>default</quota>
</analyst></users></yandex>
`;
}

beforeAll(() => {
  mkdirSync(join(servicesDir, 'clickhouse', 'users.d'), { recursive: true });
  writeFileSync(join(servicesDir, 'clickhouse', 'users.d', 'analyst.xml'), usersConfig());
  services('up');
}, 120_000);

afterAll(() => {
  services('down');
  rmSync(servicesDir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

/** Every regular file under `dir` (links not followed: the report's work folder links to node_modules). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = lstatSync(path);
    return stat.isDirectory() ? filesUnder(path) : stat.isFile() ? [path] : [];
  });
}

describe('a password in CLICKHOUSE_URL', () => {
  it('is enforced by the server: a wrong or missing one is refused, the right one reads', async () => {
    const select = async (clickhouseUrl: string) => {
      // failures are expected
      const client = createClient({ url: clickhouseUrl, log: { level: ClickHouseLogLevel.OFF } });
      try {
        return await client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' }).then((r) => r.json());
      } finally {
        await client.close();
      }
    };
    await expect(select(url(WRONG_PASSWORD))).rejects.toThrow(/password/i);
    await expect(select(`http://analyst@${host}`)).rejects.toThrow(/password/i);
    expect(await select(url(PASSWORD))).toEqual([{ ok: 1 }]);
  });

  it('run, replay and report build work with it and print only its redacted form', async () => {
    // The first 3,000 events of nyc_taxi: enough for the drift windows (reference 1,000, windows of 288), quick to run.
    const input = join(home, 'input', 'nyc_taxi.csv');
    mkdirSync(join(home, 'input'));
    writeFileSync(
      input,
      readFileSync(dataFile('events/nab/data/realKnownCause/nyc_taxi.csv'), 'utf8')
        .split('\n')
        .slice(0, 3_001)
        .join('\n'),
    );
    expect(await command('run', ['run', 'events', '--input', input]), outputs.run).toBe(0);
    expect(await command('replay', ['replay', 'events', '--input', input]), outputs.replay).toBe(0);
    expect(await command('report', ['report', 'build']), outputs.report).toBe(0);
    expect(outputs.run).toContain(`results in clickhouse (http://analyst:***@${host})`);
    expect(outputs.replay).toContain(`results in clickhouse (http://analyst:***@${host})`);
    const meta = JSON.parse(readFileSync(join(home, 'report-src', 'src', 'data', 'pipelines.json'), 'utf8')).meta;
    expect(meta.location).toBe(`http://analyst:***@${host} database ${database}`);
  }, 180_000);

  it('a rejected password is not in the error either', async () => {
    expect(await command('sql-wrong-password', ['sql', 'SELECT 1'], url(WRONG_PASSWORD))).toBe(1);
    expect(outputs['sql-wrong-password']).toMatch(/Wrong password for user analyst/);
  });

  it('works as CLICKHOUSE_USER / CLICKHOUSE_PASSWORD too, and a rejected one is not in the error', async () => {
    const vars = (password: string) => ({ CLICKHOUSE_USER: 'analyst', CLICKHOUSE_PASSWORD: password });
    expect(
      await command('sql-variables', ['sql', '--format', 'json', 'SELECT 1 AS ok'], `http://${host}`, vars(PASSWORD)),
    ).toBe(0);
    expect(outputs['sql-variables']).toBe('{"ok":1}\n');
    expect(await command('sql-variables-wrong', ['sql', 'SELECT 1'], `http://${host}`, vars(WRONG_PASSWORD))).toBe(1);
    expect(outputs['sql-variables-wrong']).toMatch(/Wrong password for user analyst/);
  });

  it('appears in no output, no file under DRIFTLINE_HOME and no warehouse row', async () => {
    const commands = ['replay', 'report', 'run', 'sql-variables', 'sql-variables-wrong', 'sql-wrong-password'];
    expect(Object.keys(outputs).sort()).toEqual(commands);
    for (const [name, output] of Object.entries(outputs))
      for (const form of [...forms(PASSWORD), ...forms(WRONG_PASSWORD)]) expect(output, name).not.toContain(form);

    const files = filesUnder(home);
    expect(files.some((f) => f.endsWith('.html'))).toBe(true); // the built site is among them
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const form of forms(PASSWORD)) expect(bytes.includes(form), file).toBe(false);
    }

    const client = createClient({ url: url(PASSWORD) });
    try {
      const tables = (await (
        await client.query({
          query: `SELECT name FROM system.tables WHERE database = '${database}'`,
          format: 'JSONEachRow',
        })
      ).json()) as { name: string }[];
      expect(tables.map((t) => t.name)).toContain('pipeline_runs');
      let rows = 0;
      for (const { name } of tables) {
        const text = await (
          await client.query({ query: `SELECT * FROM ${database}.${name}`, format: 'TabSeparated' })
        ).text();
        rows += text ? text.split('\n').length - 1 : 0;
        for (const form of forms(PASSWORD)) expect(text.includes(form), name).toBe(false);
      }
      expect(rows).toBeGreaterThan(3_000); // the events and everything derived from them were read
      const runs = await (
        await client.query({
          query: `SELECT pipeline, mode FROM ${database}.pipeline_runs FINAL ORDER BY mode`,
          format: 'JSONEachRow',
        })
      ).json();
      expect(runs).toEqual([
        { pipeline: 'events', mode: 'replay' },
        { pipeline: 'events', mode: 'run' },
      ]);
    } finally {
      await client.close();
    }
  });
});
