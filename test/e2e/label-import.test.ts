import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readHn2026Truth } from '../../connectors/labels/hn-2026-truth.ts';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { dataFile } from '../data-dir.ts';
import { readAll, testKafka, uniqueName } from '../kafka/kafka-test-helpers.ts';
import { driftline, driftlineOk, exitOf } from './cli.ts';

const prefix = `${uniqueName('labels')}.`;
const database = `driftline_labels_${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'driftline-labels-'));
const env = {
  KAFKA_BROKERS: process.env.KAFKA_BROKERS,
  DRIFTLINE_TOPIC_PREFIX: prefix,
  CLICKHOUSE_DATABASE: database,
  DRIFTLINE_HOME: join(dir, 'home'),
};
const kafka = testKafka();
const clickhouse = await openWarehouse({
  home: env.DRIFTLINE_HOME,
  clickhouseUrl: process.env.CLICKHOUSE_URL,
  clickhouseDatabase: database,
});
afterAll(async () => {
  await clickhouse.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
  await clickhouse.close();
  await kafka.close();
});

describe('driftline label import → Kafka labels topic → driftline run labels → ClickHouse', () => {
  it('publishes valid labels, dead-letters bad lines with reason and raw bytes, lands labels for SQL', async () => {
    const truth = await readHn2026Truth(dataFile('postings', 'hn-hiring-2026'));
    const good = truth.map((l, i) =>
      Buffer.from(
        JSON.stringify({
          record_id: l.record_id,
          label: i % 3 === 0 ? ['software_engineering', 'data_science'][l.label] : l.label,
          label_name: l.label_name,
          source: 'hn-2026-classified',
          labeled_at: new Date(l.labeled_at).toISOString(),
        }),
      ),
    );
    const bad: Array<{ line: Buffer; reason: RegExp }> = [
      { line: Buffer.from('{"record_id":"46000001","label":"recruiter"}'), reason: /unknown class "recruiter"/ },
      {
        line: Buffer.from('{"record_id":"46000002","label":1,"labeled_at":1772366400}'),
        reason: /looks like epoch seconds/,
      },
      { line: Buffer.from('{"record_id":"46000003","label":'), reason: /^not valid JSON/ },
      {
        line: Buffer.concat([
          Buffer.from('{"record_id":"46000004","label":"'),
          Buffer.from([0xc3, 0x28]),
          Buffer.from('"}'),
        ]),
        reason: /^not valid UTF-8$/,
      },
      { line: Buffer.from('{"label":0}'), reason: /"record_id" must be a non-empty string/ },
    ];
    // Bad lines spread through the file, at known line numbers.
    const lines: Buffer[] = [...good];
    const badAt = new Map<number, (typeof bad)[number]>();
    bad.forEach((b, i) => {
      const index = 100 + i * 300;
      lines.splice(index, 0, b.line);
      badAt.set(index + 1, b);
    });
    const file = join(dir, 'truth.jsonl');
    writeFileSync(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));

    const output = await driftlineOk(['label', 'import', file], env);
    expect(output).toContain(`imported ${truth.length} labels`);
    expect(output).toContain(`${bad.length} invalid entries dead-lettered to ${prefix}labels.dlq`);

    const published = await readAll(kafka, `${prefix}labels`);
    expect(published).toHaveLength(truth.length);
    const byId = new Map(published.map((m) => [m.key, JSON.parse(m.value.toString())]));
    for (const l of truth)
      expect(byId.get(l.record_id)).toEqual({
        record_id: l.record_id,
        label: l.label,
        label_name: l.label_name,
        source: 'hn-2026-classified',
        labeled_at: l.labeled_at,
      });

    const letters = await readAll(kafka, `${prefix}labels.dlq`);
    expect(letters).toHaveLength(bad.length);
    for (const letter of letters) {
      const expected = badAt.get(Number(letter.headers['dlq.offset']));
      expect(expected, `dead letter for line ${letter.headers['dlq.offset']}`).toBeDefined();
      expect(letter.value.equals(expected!.line)).toBe(true);
      expect(letter.headers['dlq.error']).toMatch(expected!.reason);
      expect(letter.headers['dlq.stage']).toBe('label-import');
      expect(letter.headers['dlq.topic']).toBe(`file:${file}`);
    }

    await driftlineOk(['run', 'labels', '--until-idle'], env);
    const count = async (sql: string) => Number(((await clickhouse.query(sql)) as [{ n: number }])[0]?.n ?? 0);
    expect(await count('SELECT count() AS n FROM labels FINAL')).toBe(truth.length);
    expect(await count('SELECT count() AS n FROM dead_letters FINAL')).toBe(0);
    const perClass = await clickhouse.query(
      'SELECT label, count() AS n FROM labels FINAL GROUP BY label ORDER BY label',
    );
    expect(perClass.map((r) => [Number(r.label), Number(r.n)])).toEqual(
      [0, 1].map((c) => [c, truth.filter((l) => l.label === c).length]),
    );
    const [sample] = truth;
    const rows = await clickhouse.query(
      `SELECT record_id, label, label_name, source, labeled_at FROM labels FINAL WHERE id = '${sample!.record_id}'`,
    );
    expect(rows.map((r) => ({ ...r, label: Number(r.label), labeled_at: Number(r.labeled_at) }))).toEqual([
      {
        record_id: sample!.record_id,
        label: sample!.label,
        label_name: sample!.label_name,
        source: 'hn-2026-classified',
        labeled_at: sample!.labeled_at,
      },
    ]);
  }, 180_000);

  it('exits non-zero when the file holds no valid label or cannot be read', async () => {
    const onlyBad = join(dir, 'only-bad.jsonl');
    writeFileSync(onlyBad, '{"record_id":"1","label":9}\nnot json\n');
    const own = { ...env, DRIFTLINE_TOPIC_PREFIX: `${uniqueName('labels-bad')}.` };
    const none = driftline(['label', 'import', onlyBad], own);
    expect(await exitOf(none)).not.toBe(0);
    expect(none.output()).toContain('no valid labels');
    expect(none.output()).toContain(`${onlyBad.split('/').at(-1)}:2: not valid JSON`);
    expect((await readAll(kafka, `${own.DRIFTLINE_TOPIC_PREFIX}labels.dlq`)).map((m) => m.value.toString())).toEqual([
      '{"record_id":"1","label":9}',
      'not json',
    ]);

    const missing = driftline(['label', 'import', join(dir, 'no-such-file.jsonl')], own);
    expect(await exitOf(missing)).not.toBe(0);
    expect(missing.output()).toContain('cannot read label file');
  }, 120_000);

  it('run labels --input <file> lands the same format in the embedded warehouse, bad in dead_letters', async () => {
    const home = mkdtempSync(join(tmpdir(), 'driftline-labels-embedded-'));
    const file = join(dir, 'array.json');
    const broken = Buffer.concat([
      Buffer.from('{"record_id": "c", "label": "'),
      Buffer.from([0xff]),
      Buffer.from('"}'),
    ]);
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(
          '[\n  {"record_id": "a", "label": "data_science", "labeled_at": "2026-04-01T00:00:00Z"},\n  ' +
            '{"record_id": "b", "label": 5},\n  ',
        ),
        broken,
        Buffer.from(',\n  {"record_id": 42, "label": 0, "source": "bob"}\n]\n'),
      ]),
    );
    await driftlineOk(['run', 'labels', '--input', file], {
      DRIFTLINE_HOME: home,
      CLICKHOUSE_URL: '',
      KAFKA_BROKERS: '',
    });
    const duck = await openWarehouse({ home });
    try {
      const labels = await duck.query(
        'SELECT record_id, label, label_name, source, labeled_at FROM labels ORDER BY record_id',
      );
      expect(labels.map((r) => [r.record_id, Number(r.label), r.label_name, r.source])).toEqual([
        ['42', 0, 'software_engineering', 'bob'],
        ['a', 1, 'data_science', 'file:array.json'],
      ]);
      expect(Number(labels[1]!.labeled_at)).toBe(Date.UTC(2026, 3, 1));
      const letters = await duck.query('SELECT stage, error, original FROM dead_letters ORDER BY error');
      expect(letters.map((l) => [l.stage, l.error])).toEqual([
        [
          'decode',
          'array.json:3: "label" must be a class index 0..1 or one of software_engineering, data_science, got 5',
        ],
        ['decode', 'array.json:4: not valid UTF-8'],
      ]);
      expect(Buffer.from(String(letters[1]!.original), 'base64').equals(broken)).toBe(true);
    } finally {
      await duck.close();
    }
  }, 120_000);
});
