import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { driftline, exitOf } from './cli.ts';

// Input that does not fit its pipeline fails loudly (cli/input-fit.ts): real files from the shared data directory,
// the real command, embedded defaults (no ClickHouse, embedded log) in a fresh home.
const DATA = '/work/shared/data';
const NYC_TAXI = join(DATA, 'events/nab/data/realKnownCause/nyc_taxi.csv');
const HN_MONTH = join(DATA, 'postings/hn-hiring-2013-2018/2013-08.json');
const JPEG = join(DATA, 'frames/neu-det/images/crazing_1.jpg');

const home = () => mkdtempSync(join(tmpdir(), 'driftline-input-fit-'));
const embedded = () => ({ DRIFTLINE_HOME: home(), CLICKHOUSE_URL: '', KAFKA_BROKERS: '' });

async function run(args: string[]) {
  const child = driftline(args, embedded());
  const code = await exitOf(child);
  return { code, output: child.output() };
}

describe('driftline run on input that does not fit', () => {
  it('an image given to events: exit 1 naming the files events reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftline-jpg-'));
    copyFileSync(JPEG, join(dir, 'some.jpg'));
    const { code, output } = await run(['run', 'events', '--input', join(dir, 'some.jpg')]);
    expect(code).toBe(1);
    expect(output).toContain('no events input file under');
    expect(output).toContain('timestamp,value');
  });

  it('a NAB CSV given to frames: exit 1 naming images and videos', async () => {
    const { code, output } = await run(['run', 'frames', '--input', NYC_TAXI]);
    expect(code).toBe(1);
    expect(output).toMatch(/no frames input file under .*nyc_taxi\.csv: frames reads images \(\.jpg/);
  });

  it('an HN JSON array given to events is read as an array, and all of it dead-lettered: exit 1', async () => {
    const elements = (JSON.parse(readFileSync(HN_MONTH, 'utf8')) as unknown[]).length;
    expect(readFileSync(HN_MONTH, 'utf8').split('\n').length).toBeGreaterThan(elements * 5);
    const { code, output } = await run(['run', 'events', '--input', HN_MONTH]);
    expect(code).toBe(1);
    expect(output).toContain(`every record was dead-lettered: ${elements} dead letters for ${elements} records read`);
    expect(output).toContain('events reads .csv files');
  });

  it('--max-dead-letter-ratio: a share under it exits 0, over it exits 1', async () => {
    // 40 real NAB rows and 10 broken ones: 20 % dead letters.
    const lines = readFileSync(NYC_TAXI, 'utf8').split('\n');
    const brokenLine = (i: number) => (i % 2 ? `2014-07-02 0${i}:00:00,not a number` : `${i},${i},${i}`);
    const broken = Array.from({ length: 10 }, (_, i) => brokenLine(i));
    const dir = mkdtempSync(join(tmpdir(), 'driftline-mixed-'));
    const file = join(dir, 'nyc_taxi_part.csv');
    writeFileSync(file, `${[...lines.slice(0, 41), ...broken].join('\n')}\n`);

    const tolerated = await run(['run', 'events', '--input', file, '--max-dead-letter-ratio', '0.5', '--json']);
    expect(tolerated.code, tolerated.output).toBe(0);
    const json = tolerated.output.split('\n').find((line) => line.startsWith('{"pipeline"'));
    expect(JSON.parse(json ?? '{}')).toMatchObject({ pipeline: 'events', recordsIn: 50, deadLetters: 10 });

    const strict = await run(['run', 'events', '--input', file, '--max-dead-letter-ratio', '0.1']);
    expect(strict.code).toBe(1);
    expect(strict.output).toContain(
      '10 dead letters for 50 records read (20.0 %), more than --max-dead-letter-ratio 0.1',
    );
  });
});
