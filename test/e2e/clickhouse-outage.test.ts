import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { dataFile } from '../data-dir.ts';
import { uniqueName } from '../kafka/kafka-test-helpers.ts';
import { driftline, driftlineOk, exitOf, sleep } from './cli.ts';

const HN_2026_POSTINGS = 1_720;
// ClickHouse stays down this long after the postings have arrived: longer than the sink's backoff takes to reach its
// 5 s cap (0.1 + 0.2 + … + 3.2 s = 6.3 s), so retries at the capped delay are exercised too.
const DOWN_AFTER_POSTINGS_MS = 10_000;
// A private ClickHouse server (own ports and data), so stopping it disturbs nothing else.
const HTTP_PORT = 18123;
const clickhouseUrl = `http://127.0.0.1:${HTTP_PORT}`;
const servicesDir = mkdtempSync(join(tmpdir(), 'driftline-outage-services-'));
const services = (action: 'up' | 'down') =>
  execFileSync('bash', ['scripts/services.sh', action], {
    env: {
      ...process.env,
      SERVICES: 'clickhouse',
      DRIFTLINE_SERVICES_DIR: servicesDir,
      CLICKHOUSE_HTTP_PORT: String(HTTP_PORT),
      CLICKHOUSE_TCP_PORT: '19000',
    },
    stdio: 'inherit',
  });
const ping = () =>
  fetch(`${clickhouseUrl}/ping`).then(
    (r) => r.ok,
    () => false,
  );
const env = {
  DRIFTLINE_TOPIC_PREFIX: `${uniqueName('outage')}.`,
  CLICKHOUSE_URL: clickhouseUrl,
  DRIFTLINE_HOME: mkdtempSync(join(tmpdir(), 'driftline-outage-')),
};

services('up');
let warehouse = await openWarehouse({ home: env.DRIFTLINE_HOME, clickhouseUrl });
afterAll(async () => {
  await warehouse.close();
  services('down');
  rmSync(servicesDir, { recursive: true, force: true });
});

describe(`ClickHouse unavailable mid-run (while postings arrive, then ${DOWN_AFTER_POSTINGS_MS / 1000} s more)`, () => {
  it('the pipeline waits, retries and finishes with nothing lost', async () => {
    const run = driftline(['run', 'postings'], env);
    // Wait until the pipeline has created its tables and joined its group, then take ClickHouse away.
    while (!run.output().includes('running postings')) await sleep(100);
    await sleep(8_000);
    services('down');
    expect(await ping()).toBe(false); // the server really is gone
    const downAt = Date.now();

    // Postings arrive while ClickHouse is down.
    await driftlineOk(['produce', 'postings', dataFile('postings/hn-hiring-2026')], env);
    await sleep(DOWN_AFTER_POSTINGS_MS);
    expect(run.exitCode).toBe(null); // still running, not crashed
    services('up');

    await warehouse.close();
    warehouse = await openWarehouse({ home: env.DRIFTLINE_HOME, clickhouseUrl });
    const deadline = Date.now() + 120_000;
    let landed = 0;
    while (landed < HN_2026_POSTINGS && Date.now() < deadline) {
      await sleep(500);
      landed = Number(
        ((await warehouse.query('SELECT count() AS n FROM postings FINAL')) as [{ n: number }])[0]?.n ?? 0,
      );
    }
    run.kill('SIGTERM');
    expect(await exitOf(run)).toBe(0);
    expect(landed).toBe(HN_2026_POSTINGS);
    console.log(
      `outage: ClickHouse down ${((Date.now() - downAt) / 1000).toFixed(0)} s incl. recovery; ${landed} postings ` +
        `landed`,
    );
  }, 240_000);
});
