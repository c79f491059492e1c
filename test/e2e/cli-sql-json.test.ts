/**
 * `driftline sql` runs every statement it is given and prints values in full where asked (csv, json, a --wide
 * table); `models list --json` prints the manifest's entries in full. The real process on a fresh embedded home.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitStatements } from '../../cli/sql.ts';
import { driftlineOk } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'driftline-sql-'));
const env = {
  DRIFTLINE_HOME: join(dir, 'home'),
  DRIFTLINE_MODELS_MANIFEST: join(dir, 'models.json'),
  CLICKHOUSE_URL: '',
  KAFKA_BROKERS: '',
};
const LONG = 'x'.repeat(100);
// two statements, a semicolon inside a string and another in a comment
const QUERY = `SELECT '${LONG}' AS long, 'a;b' AS s; -- the next one; too\nSELECT 2 AS two;`;

describe('driftline sql', () => {
  it('splits statements at semicolons outside strings and comments', () => {
    expect(splitStatements(QUERY)).toEqual([
      `SELECT '${LONG}' AS long, 'a;b' AS s`,
      '-- the next one; too\nSELECT 2 AS two',
    ]);
    expect(splitStatements(`SELECT 'it''s; fine' AS a /* ; */ ; ;`)).toEqual([`SELECT 'it''s; fine' AS a /* ; */`]);
  });

  it('runs every statement; json and csv hold every value in full', async () => {
    const json = await driftlineOk(['sql', QUERY, '--format', 'json'], env);
    expect(
      json
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([{ long: LONG, s: 'a;b' }, { two: 2 }]);
    const csv = await driftlineOk(['sql', QUERY, '--format', 'csv'], env);
    expect(csv).toBe(`long,s\n${LONG},a;b\n\ntwo\n2\n`);
  });

  it('cuts long cells in the table, and prints them whole with --wide', async () => {
    const table = await driftlineOk(['sql', QUERY], env);
    expect(table).toContain(`${'x'.repeat(59)}…`);
    expect(table).not.toContain(LONG);
    expect(table).toMatch(/^two\n---\n {2}2\n\(1 row\)$/m);
    expect(await driftlineOk(['sql', QUERY, '--wide'], env)).toContain(LONG);
  });
});

describe('driftline models list --json', () => {
  it('prints every manifest entry in full as one JSON line', async () => {
    const entry = {
      id: 'postings-a',
      version: 'v1',
      kind: 'postings',
      precision: 'fp32',
      parent: null,
      created_at: '2026-01-02T03:04:05.000Z',
      sha256: 'ab'.repeat(32),
      dataset_hash: 'cd'.repeat(32),
      config_hash: 'ef'.repeat(32),
      metrics: { accuracy: 0.93 },
      stage: 'production',
      file: 'models/postings-a/v1/model.onnx',
    };
    writeFileSync(env.DRIFTLINE_MODELS_MANIFEST, JSON.stringify({ models: [entry] }));
    const out = await driftlineOk(['models', 'list', '--json'], env);
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(out)).toEqual([entry]);
  });
});
