import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { dataFile } from '../data-dir.ts';
import { uniqueName } from '../kafka/kafka-test-helpers.ts';
import { driftline, driftlineOk, exitOf, sleep } from './cli.ts';

// All four postings sources of the shared data: 22 + 1,230 + 28,238 + 1,720 after dedupe; one HN post is empty.
const EXPECTED_POSTINGS = 31_209;
const prefix = `${uniqueName('pkc')}.`;
const database = `driftline_e2e_${Date.now().toString(36)}`;
const env = {
  DRIFTLINE_TOPIC_PREFIX: prefix,
  CLICKHOUSE_DATABASE: database,
  DRIFTLINE_HOME: mkdtempSync(join(tmpdir(), 'driftline-pkc-')),
};
const clickhouse = await openWarehouse({
  home: env.DRIFTLINE_HOME,
  clickhouseUrl: process.env.CLICKHOUSE_URL,
  clickhouseDatabase: database,
});
afterAll(async () => {
  await clickhouse.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
  await clickhouse.close();
});

const count = async (sql: string) => Number(((await clickhouse.query(sql)) as [{ n: number }])[0]?.n ?? 0);

describe('postings: Kafka → normalize → ClickHouse', () => {
  it('lands every posting once across a SIGKILL and restart; the embedded warehouse gets the same counts', async () => {
    await driftlineOk(['produce', 'postings', dataFile('postings')], env);

    // First run: killed without warning once the first insert has landed.
    const first = driftline(['run', 'postings'], env);
    const deadline = Date.now() + 90_000;
    let landed = 0;
    while (landed === 0 && Date.now() < deadline) {
      await sleep(50);
      landed = await count('SELECT count() AS n FROM postings').catch(() => 0);
    }
    first.kill('SIGKILL');
    await exitOf(first);
    expect(landed).toBeGreaterThan(0);
    expect(landed).toBeLessThan(EXPECTED_POSTINGS);

    // Restart: resumes from the last commit and stops when the topic is consumed.
    await driftlineOk(['run', 'postings', '--until-idle'], env);
    expect(await count('SELECT count() AS n FROM postings FINAL')).toBe(EXPECTED_POSTINGS);
    expect(await count('SELECT uniqExact(id) AS n FROM postings')).toBe(EXPECTED_POSTINGS);
    expect(await count('SELECT count() AS n FROM (SELECT id FROM postings FINAL GROUP BY id HAVING count() > 1)')).toBe(
      0,
    );
    expect(await count('SELECT count() AS n FROM dead_letters FINAL')).toBe(1);
    const perSource = await clickhouse.query(
      'SELECT source, count() AS n FROM postings FINAL GROUP BY source ORDER BY source',
    );

    // The same topic into the embedded warehouse (another consumer group, no ClickHouse): the same counts.
    const embeddedHome = mkdtempSync(join(tmpdir(), 'driftline-pkc-embedded-'));
    await driftlineOk(['run', 'postings', '--until-idle', '--group', 'embedded-copy'], {
      ...env,
      CLICKHOUSE_URL: '',
      DRIFTLINE_HOME: embeddedHome,
    });
    const duck = await openWarehouse({ home: embeddedHome });
    try {
      expect(Number(((await duck.query('SELECT count(*) AS n FROM postings')) as [{ n: number }])[0].n)).toBe(
        EXPECTED_POSTINGS,
      );
      expect(Number(((await duck.query('SELECT count(*) AS n FROM dead_letters')) as [{ n: number }])[0].n)).toBe(1);
      const duckPerSource = await duck.query(
        'SELECT source, count(*) AS n FROM postings GROUP BY source ORDER BY source',
      );
      expect(duckPerSource.map((r) => [r.source, Number(r.n)])).toEqual(perSource.map((r) => [r.source, Number(r.n)]));
    } finally {
      await duck.close();
    }
  }, 240_000);
});
