import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { driftline, exitOf, sleep } from './cli.ts';

// Progress on long work (cli/progress.ts) through the real command, not on a terminal: plain lines at the interval
// DRIFTLINE_PROGRESS_SECONDS sets (default 10 s; shortened here), and Ctrl-C always says what was done.
const NYC_TAXI = '/work/shared/data/events/nab/data/realKnownCause/nyc_taxi.csv';
const PROGRESS = /(produce events|events) · [\d.]+ s · ([\d,]+) records \([\d,]+\/s\)/g;

async function until(child: ReturnType<typeof driftline>, pattern: RegExp, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(child.output())) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`never saw ${pattern}:\n${child.output()}`);
    await sleep(100);
  }
}

const counts = (output: string) => [...output.matchAll(PROGRESS)].map((m) => Number(m[2]!.replaceAll(',', '')));

describe('progress and Ctrl-C', () => {
  const home = mkdtempSync(join(tmpdir(), 'driftline-progress-'));
  const env = { DRIFTLINE_HOME: home, CLICKHOUSE_URL: '', KAFKA_BROKERS: '', DRIFTLINE_PROGRESS_SECONDS: '0.5' };

  it('produce: periodic lines with records and rate; Ctrl-C prints what was acknowledged, exit 130', async () => {
    const child = driftline(['produce', 'events', NYC_TAXI, '--rate', '1000'], env);
    await until(child, /produce events · .* records .*\n[\s\S]*produce events · /); // two lines
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(130);
    const seen = counts(child.output());
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen[1]!).toBeGreaterThan(seen[0]!);
    const stopped = /SIGINT: stopped; (\d+) records acknowledged to embedded topic events/.exec(child.output());
    expect(stopped, child.output()).not.toBeNull();
    expect(Number(stopped![1])).toBeGreaterThanOrEqual(seen[seen.length - 1]!);
  });

  it('run: progress lines while it reads the topic; Ctrl-C says how far it got, drains and exits 0', async () => {
    const child = driftline(['run', 'events'], env);
    await until(child, /events · [\d.]+ s · [1-9][\d,]* records/);
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(0);
    const output = child.output();
    expect(output).toMatch(/SIGINT: stopping after events · [\d.]+ s · [1-9][\d,]* records/);
    expect(output).toMatch(/events: run \S+ done in [\d.]+ s/);
  });
});
