import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftline, exitOf } from './cli.ts';

// Services that do not answer fail at first contact with one line: the variable, the address and the fix
// (connectors/kafka/first-contact.ts, connectors/warehouse/first-contact.ts). Real sockets made here: a port
// that refuses, and a "black hole" that accepts connections and never says a word.
const NYC_TAXI = '/work/shared/data/events/nab/data/realKnownCause/nyc_taxi.csv';

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );

let blackHole: Server;
let blackHolePort: number;
let closedPort: number;
const sockets: Socket[] = [];
let input: string;

beforeAll(async () => {
  blackHole = createServer((socket) => sockets.push(socket)); // accepts, reads nothing, answers nothing
  blackHolePort = await listen(blackHole);
  const probe = createServer();
  closedPort = await listen(probe);
  await new Promise((r) => probe.close(r)); // the port is now closed: connections are refused
  const dir = mkdtempSync(join(tmpdir(), 'driftline-services-'));
  input = join(dir, 'nyc_taxi_head.csv');
  writeFileSync(input, `${readFileSync(NYC_TAXI, 'utf8').split('\n').slice(0, 21).join('\n')}\n`);
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => blackHole.close(r));
});

async function fails(args: string[], env: NodeJS.ProcessEnv) {
  const child = driftline(args, { DRIFTLINE_HOME: mkdtempSync(join(tmpdir(), 'driftline-services-home-')), ...env });
  const code = await exitOf(child);
  const lines = child.output().trim().split('\n');
  return { code, lines };
}

describe('unreachable services', () => {
  it('Kafka at a closed port: one line with KAFKA_BROKERS, the address and the fix', async () => {
    const env = { KAFKA_BROKERS: `127.0.0.1:${closedPort}`, CLICKHOUSE_URL: '' };
    const { code, lines } = await fails(['produce', 'events', input], env);
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`Kafka is not reachable at KAFKA_BROKERS=127.0.0.1:${closedPort}`);
    expect(lines[0]).toContain('ECONNREFUSED');
    expect(lines[0]).toContain('npm run services:up');
  });

  it('Kafka that never answers: the same one line, after the first-contact timeout', async () => {
    const env = { KAFKA_BROKERS: `127.0.0.1:${blackHolePort}`, CLICKHOUSE_URL: '' };
    const { code, lines } = await fails(['produce', 'events', input], env);
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    const brokers = `127\\.0\\.0\\.1:${blackHolePort}`;
    const expected = `Kafka is not reachable at KAFKA_BROKERS=${brokers} \\(no answer within \\d+ s\\)`;
    expect(lines[0]).toMatch(new RegExp(expected));
    expect(lines[0]).toContain('npm run services:up');
  });

  it('ClickHouse that never answers: one line with CLICKHOUSE_URL (password redacted) and the fix', async () => {
    const url = `http://driftline:s3cret-pw@127.0.0.1:${blackHolePort}`;
    const { code, lines } = await fails(['run', 'events', '--input', input], {
      KAFKA_BROKERS: '',
      CLICKHOUSE_URL: url,
    });
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    const redacted =
      /^driftline: ClickHouse is not reachable at CLICKHOUSE_URL=http:\/\/driftline:\*\*\*@127\.0\.0\.1:\d+ /;
    expect(lines[0]).toMatch(redacted);
    expect(lines[0]).toMatch(/\(no answer within \d+ s\)/);
    expect(lines[0]).toContain('npm run services:up');
    expect(lines.join('\n')).not.toContain('s3cret-pw');
  });
});
