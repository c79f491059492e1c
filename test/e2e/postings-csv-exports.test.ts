/**
 * CSV exports of job postings read with no edit to the project: the Glassdoor export recognised by its header under
 * any file name (and stored with no label: its name no longer says which search it came from), another layout
 * mapped with `--csv-map` (a label column optional, per row), and an unknown layout refused with its header named.
 * The real `driftline` process on the embedded log and warehouse, no model registered.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { dataFile } from '../data-dir.ts';
import { driftline, driftlineOk, exitOf } from './cli.ts';

function freshHome() {
  const dir = mkdtempSync(join(tmpdir(), 'driftline-csv-'));
  const manifest = join(dir, 'models.json');
  writeFileSync(manifest, '{"models":[]}');
  const env = {
    DRIFTLINE_HOME: join(dir, 'home'),
    DRIFTLINE_MODELS_MANIFEST: manifest,
    KAFKA_BROKERS: '',
    CLICKHOUSE_URL: '',
    SCHEMA_REGISTRY_URL: '',
  };
  const input = join(dir, 'input');
  mkdirSync(input);
  return { env, input };
}

async function warehouseRows(home: string, sql: string): Promise<Record<string, unknown>[]> {
  // closed again at once: the next driftline command of the test writes to this file
  const instance = await DuckDBInstance.create(join(home, 'warehouse.duckdb'), { access_mode: 'READ_ONLY' });
  const db = await instance.connect();
  try {
    return (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

/** A job board's own export: other column names, a label column with 1, 0, empty and a wrong value. */
const OWN_EXPORT = [
  'Position,Employer,City,Text,Class',
  'Data Scientist,Acme,Berlin,"Build models in Python, run experiments, report to product.",1',
  'Backend Engineer,Acme,Paris,"Go services, Postgres, on-call rotation.",0',
  'ML Engineer,Initech,Remote,"Ship LLM features, evals and RAG pipelines.",',
  'Analyst,Initech,Remote,"Dashboards.",yes',
].join('\n');
const OWN_MAP = 'Position=title,Employer=company,City=location,Text=description,Class=label';

describe('postings CSV exports', () => {
  it('reads a Glassdoor export under any file name, with no project edit and no label', async () => {
    const { env, input } = freshHome();
    copyFileSync(
      dataFile('postings', 'glassdoor-2020', 'data_science.csv'),
      join(input, 'glassdoor-export-2020-04.csv'),
    );
    await driftlineOk(['run', 'postings', '--input', input], env);
    const [row] = await warehouseRows(
      env.DRIFTLINE_HOME,
      `select count(*) n, count(label) labelled, count(distinct title) titles from postings where source = 'glassdoor'`,
    );
    // 600 distinct rows in data_science.csv (its duplicates dropped), none given the 1 its project file name would get
    expect([Number(row!.n), Number(row!.labelled)]).toEqual([600, 0]);
    expect(Number(row!.titles)).toBeGreaterThan(100);
  });

  it('maps another layout with --csv-map, a label per row (empty: none), through the topic too', async () => {
    const { env, input } = freshHome();
    writeFileSync(join(input, 'board.csv'), OWN_EXPORT);
    await driftlineOk(['produce', 'postings', input, '--csv-map', OWN_MAP], env);
    await driftlineOk(['run', 'postings', '--until-idle'], env);
    const postings = await warehouseRows(
      env.DRIFTLINE_HOME,
      `select title, company, location, label from postings order by title`,
    );
    expect(postings).toEqual([
      { title: 'Backend Engineer', company: 'Acme', location: 'Paris', label: 0 },
      { title: 'Data Scientist', company: 'Acme', location: 'Berlin', label: 1 },
      { title: 'ML Engineer', company: 'Initech', location: 'Remote', label: null },
    ]);
    const [dead] = await warehouseRows(env.DRIFTLINE_HOME, `select error from dead_letters`);
    expect(dead!.error).toContain('label must be 0 or 1, got "yes"');
  });

  it('takes the map from a JSON file, refuses a layout it does not know, naming the header and --csv-map', async () => {
    const { env, input } = freshHome();
    writeFileSync(join(input, 'board.csv'), OWN_EXPORT);
    const refused = driftline(['run', 'postings', '--input', input], env);
    expect(await exitOf(refused)).toBe(1);
    expect(refused.output()).toMatch(
      /board\.csv: CSV header not recognised \(columns "Position", "Employer", "City", "Text", "Class"\).*--csv-map/,
    );

    const mapFile = join(input, '..', 'board-map.json');
    writeFileSync(mapFile, JSON.stringify(Object.fromEntries(OWN_MAP.split(',').map((pair) => pair.split('=')))));
    await driftlineOk(['run', 'postings', '--input', input, '--csv-map', mapFile], env);
    const [row] = await warehouseRows(env.DRIFTLINE_HOME, `select count(*) n from postings`);
    expect(Number(row!.n)).toBe(3);

    const unknownField = driftline(
      ['run', 'postings', '--input', input, '--csv-map', 'Position=headline,Text=description'],
      env,
    );
    expect(await exitOf(unknownField)).toBe(1);
    expect(unknownField.output()).toContain(
      'column "Position" maps to unknown field "headline"; fields: title, company, location, description, salary, ' +
        'label',
    );
  });
});
