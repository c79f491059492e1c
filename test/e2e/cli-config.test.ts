import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { driftline, exitOf } from './cli.ts';

// A --config file's pipeline options are checked when a command starts, before it opens a log, a warehouse or a
// registry: an unknown option is named (with the near one), a wrong value is named with the type it must have.
const work = mkdtempSync(join(tmpdir(), 'driftline-cli-config-'));
const events = join(work, 'series', 'cpu.csv');
mkdirSync(join(work, 'series'));
const minute = (i: number) => String(i).padStart(2, '0');
writeFileSync(
  events,
  `timestamp,value\n${Array.from({ length: 30 }, (_, i) => `2026-01-01 00:${minute(i)}:00,${i % 7}`).join('\n')}\n`,
);

function config(name: string, pipelines: unknown): string {
  const file = join(work, `${name}.json`);
  writeFileSync(file, JSON.stringify({ pipelines }));
  return file;
}

/** A home of its own per command, and no servers: the embedded log and warehouse would be created under it. */
const embedded = (home: string) => ({
  DRIFTLINE_HOME: join(work, home),
  KAFKA_BROKERS: '',
  CLICKHOUSE_URL: '',
  SCHEMA_REGISTRY_URL: '',
});

async function refused(args: string[], home: string): Promise<string> {
  const child = driftline(args, embedded(home));
  expect(await exitOf(child)).toBe(1);
  expect(existsSync(join(work, home))).toBe(false); // stopped before opening anything
  return child.output();
}

describe('--config pipeline options', () => {
  it('run: an unknown option is rejected by name, with the option it is close to', async () => {
    const file = config('unknown-option', { events: { windowMinute: 15 } });
    const output = await refused(['run', 'events', '--input', events, '--config', file], 'unknown-option');
    expect(output).toContain(
      'driftline: pipeline "events" has no option "windowMinute" (did you mean "windowMinutes"?); its options are ' +
        'windowMinutes, ',
    );
  });

  it('replay: a value of the wrong type is rejected, naming the option and the type it must be', async () => {
    const file = config('wrong-type', { postings: { windowDays: '30' } });
    const output = await refused(['replay', 'postings', '--input', events, '--config', file], 'wrong-type');
    expect(output).toContain(
      'driftline: pipeline "postings": config option "windowDays" must be a positive number, got "30"',
    );
  });

  it('produce: a misspelt pipeline name in the file is caught too', async () => {
    const output = await refused(
      ['produce', 'events', events, '--config', config('misspelt', { event: { windowMinutes: 15 } })],
      'misspelt',
    );
    expect(output).toContain(
      'config: no pipeline named "event" (under "pipelines"); pipelines: events, postings, frames, labels',
    );
  });
});
// Valid options through the CLI: every test that passes --config (test/replay, test/report, test/frames) runs on them.
