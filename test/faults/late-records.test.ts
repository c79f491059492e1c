/**
 * Issue 16: late records are counted and reported, never dropped without a word. Two series in two files, the
 * second one earlier than the first: `run --input` reads the files one after the other on one clock, so the second
 * file's readings arrive after their hourly windows closed. The run says how many and what to change, and
 * `pipeline_runs.late_records` holds the same count as the late output received. `replay` reads the files in
 * event-time order: nothing late, no warning.
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
  ['timestamp,value', ...Array.from({ length: count }, (_, i) => `${new Date(Date.parse(`${from}Z`) + i * 300_000).toISOString().slice(0, 19).replace('T', ' ')},${20 + (i % 7)}`)].join('\n');
writeFileSync(join(input, 'a_line.csv'), series('2020-01-01T10:00:00', 25)); // 10:00–12:00
writeFileSync(join(input, 'b_line.csv'), series('2020-01-01T08:00:00', 13)); // 08:00–09:00: read after a_line

async function runFigures(home: string) {
  const warehouse = await openWarehouse({ home });
  try {
    const [run] = await warehouse.query('SELECT records_in, late_records FROM pipeline_runs');
    const [sink] = await warehouse.query("SELECT records_in FROM pipeline_metrics WHERE stage = 'sink:events.late'");
    return { recordsIn: Number(run!.records_in), late: Number(run!.late_records), lateSink: Number(sink?.records_in ?? 0) };
  } finally {
    await warehouse.close();
  }
}

describe('late records', () => {
  it('run --input: counted, printed with what to change, and stored in pipeline_runs', async () => {
    const home = join(dir, 'run');
    const output = await driftlineOk(['run', 'events', '--input', input], { DRIFTLINE_HOME: home, CLICKHOUSE_URL: '', KAFKA_BROKERS: '' });
    expect(output).toMatch(/events: warning: 13 records arrived after their window had closed \(34\.2 % of 38 read\): 13 at stats\./);
    expect(output).toMatch(/raise allowedLatenessMinutes/);
    expect(await runFigures(home)).toEqual({ recordsIn: 38, late: 13, lateSink: 13 });
  });

  it('replay --input reads in event-time order: nothing late, no warning', async () => {
    const home = join(dir, 'replay');
    const output = await driftlineOk(['replay', 'events', '--input', input], { DRIFTLINE_HOME: home, CLICKHOUSE_URL: '', KAFKA_BROKERS: '' });
    expect(output).not.toMatch(/warning: .* records arrived after their window/);
    expect(await runFigures(home)).toEqual({ recordsIn: 38, late: 0, lateSink: 0 });
  });
});
