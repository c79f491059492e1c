/**
 * Issue 16: late records are counted and reported, never dropped without a word. One file whose readings go back
 * in time half-way (10:00–12:00, then 08:00–09:00): `run --input` merges files in event time but keeps each file's
 * own order (connectors/files/event-time-merge.ts), so the earlier readings arrive after their hourly windows
 * closed. The run says how many and what to change, and `pipeline_runs.late_records` holds the same count as the
 * late output received. `replay` sorts the records themselves in event time: nothing late, no warning.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { driftlineOk } from '../e2e/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'driftline-late-'));
const input = join(dir, 'plant');
mkdirSync(input);
/** NAB-style CSV: one reading every 5 minutes from `from` for `count` readings. */
const series = (from: string, count: number) =>
  [
    'timestamp,value',
    ...Array.from(
      { length: count },
      (_, i) =>
        `${new Date(Date.parse(`${from}Z`) + i * 300_000).toISOString().slice(0, 19).replace('T', ' ')},` +
        `${20 + (i % 7)}`,
    ),
  ].join('\n');
// 10:00–12:00, then 08:00–09:00 in the same file: read after the later readings
writeFileSync(
  join(input, 'a_line.csv'),
  `${series('2020-01-01T10:00:00', 25)}\n${series('2020-01-01T08:00:00', 13).split('\n').slice(1).join('\n')}`,
);

async function runFigures(home: string) {
  const warehouse = await openWarehouse({ home });
  try {
    const [run] = await warehouse.query('SELECT records_in, late_records FROM pipeline_runs');
    const [sink] = await warehouse.query("SELECT records_in FROM pipeline_metrics WHERE stage = 'sink:events.late'");
    return {
      recordsIn: Number(run!.records_in),
      late: Number(run!.late_records),
      lateSink: Number(sink?.records_in ?? 0),
    };
  } finally {
    await warehouse.close();
  }
}

// Two independent series interleaved in one JSON-lines file (as a Kafka partition carries them): plant B's readings
// (08:00–09:00) come after plant A's (10:00–12:00). Issue 16 item 5: time per series keeps them all.
const twoSeries = join(dir, 'two-series.jsonl');
const readings = (key: string, from: string, count: number) =>
  Array.from({ length: count }, (_, i) =>
    JSON.stringify({ key, timestamp: Date.parse(`${from}Z`) + i * 300_000, value: 20 + (i % 7) }),
  );
writeFileSync(
  twoSeries,
  [...readings('plant_a', '2020-01-01T10:00:00', 25), ...readings('plant_b', '2020-01-01T08:00:00', 13)].join('\n'),
);

async function windowsPerSeries(home: string) {
  const warehouse = await openWarehouse({ home });
  try {
    const [sink] = await warehouse.query("SELECT records_in FROM pipeline_metrics WHERE stage = 'sink:events.windows'");
    return Number(sink?.records_in ?? 0);
  } finally {
    await warehouse.close();
  }
}

describe('late records', () => {
  it('interleaved series: late on the partition clock, kept with eventTime "key" (time per series)', async () => {
    const env = { CLICKHOUSE_URL: '', KAFKA_BROKERS: '' };
    const partitionHome = join(dir, 'partition-clock');
    const partitionOutput = await driftlineOk(['run', 'events', '--input', twoSeries], {
      ...env,
      DRIFTLINE_HOME: partitionHome,
    });
    expect(partitionOutput).toMatch(/events: warning: 13 records arrived after their window had closed/);
    expect(await runFigures(partitionHome)).toEqual({ recordsIn: 38, late: 13, lateSink: 13 });

    const config = join(dir, 'per-key.json');
    writeFileSync(config, JSON.stringify({ pipelines: { events: { eventTime: 'key' } } }));
    const keyHome = join(dir, 'key-clock');
    const keyOutput = await driftlineOk(['run', 'events', '--input', twoSeries, '--config', config], {
      ...env,
      DRIFTLINE_HOME: keyHome,
    });
    expect(keyOutput).not.toMatch(/records arrived after their window/);
    expect(await runFigures(keyHome)).toEqual({ recordsIn: 38, late: 0, lateSink: 0 });
    // A: 10:00, 11:00, 12:00 (3 windows); B: 08:00, 09:00 (2) — against A's 3 alone on the partition clock.
    expect(await windowsPerSeries(partitionHome)).toBe(3);
    expect(await windowsPerSeries(keyHome)).toBe(5);
  });

  it('run --input: counted, printed with what to change, and stored in pipeline_runs', async () => {
    const home = join(dir, 'run');
    const output = await driftlineOk(['run', 'events', '--input', input], {
      DRIFTLINE_HOME: home,
      CLICKHOUSE_URL: '',
      KAFKA_BROKERS: '',
    });
    expect(output).toMatch(
      /events: warning: 13 records arrived after their window had closed \(34\.2 % of 38 read\): 13 at stats\./,
    );
    expect(output).toMatch(/raise allowedLatenessMinutes/);
    expect(await runFigures(home)).toEqual({ recordsIn: 38, late: 13, lateSink: 13 });
  });

  it('replay --input reads in event-time order: nothing late, no warning', async () => {
    const home = join(dir, 'replay');
    const output = await driftlineOk(['replay', 'events', '--input', input], {
      DRIFTLINE_HOME: home,
      CLICKHOUSE_URL: '',
      KAFKA_BROKERS: '',
    });
    expect(output).not.toMatch(/warning: .* records arrived after their window/);
    expect(await runFigures(home)).toEqual({ recordsIn: 38, late: 0, lateSink: 0 });
  });
});
