import { describe, expect, it } from 'vitest';
import { dataFile } from '../data-dir.ts';
import { driftlineOk } from '../e2e/cli.ts';
import { iso, liveTopic, nabTimestamps, replay, replayTopic, tempHome, warehouseSnapshot } from './replay-helpers.ts';

// Embedded defaults: no Kafka (the input is files) and the DuckDB warehouse of each temp home.
const embedded = { KAFKA_BROKERS: '', CLICKHOUSE_URL: '', DRIFTLINE_TOPIC_PREFIX: '' };
const NYC_TAXI = dataFile('events/nab/data/realKnownCause/nyc_taxi.csv');

/**
 * Replays the same input into two fresh homes, side by side (separate processes), and returns both warehouse snapshots.
 */
async function replayTwice(args: string[]) {
  const homes = [tempHome('a'), tempHome('b')];
  const runIds = await Promise.all([
    replay([...args, '--run-id', 'replay-first'], { ...embedded, DRIFTLINE_HOME: homes[0] }),
    replay(args, { ...embedded, DRIFTLINE_HOME: homes[1] }),
  ]);
  const snapshots = [await warehouseSnapshot(homes[0]!, runIds[0]!), await warehouseSnapshot(homes[1]!, runIds[1]!)];
  return { homes, runIds, snapshots };
}

describe('driftline replay --input (files)', () => {
  it('events: a file replayed twice gives identical rows in all tables and windows, like `run --input`', async () => {
    const { homes, runIds, snapshots } = await replayTwice(['events', '--input', NYC_TAXI]);
    expect(runIds[0]).toBe('replay-first');
    expect(runIds[1]).toMatch(/^replay-\d{8}T\d{6}-[0-9a-f]{8}$/);
    const [first, second] = snapshots;
    expect(first!.events).toHaveLength(nabTimestamps(NYC_TAXI).length);
    expect(first!.pipeline_metrics!.length).toBeGreaterThan(0);
    for (const table of Object.keys(first!)) expect(second![table], table).toEqual(first![table]);

    const windows = await Promise.all(homes.map((h, i) => replayTopic(h, runIds[i]!, 'events.windows')));
    expect(windows[0]!.length).toBeGreaterThan(0);
    expect(windows[1]).toEqual(windows[0]);

    // `run --input` on the same file: the same rows (metrics included) and windows as its replay.
    const liveHome = tempHome('live');
    const liveRunId =
      /: run (\S+) done/.exec(
        await driftlineOk(['run', 'events', '--input', NYC_TAXI], { ...embedded, DRIFTLINE_HOME: liveHome }),
      )?.[1] ?? '';
    const live = await warehouseSnapshot(liveHome, liveRunId);
    for (const table of Object.keys(first!)) expect(live[table], table).toEqual(first![table]);
    expect(await liveTopic(liveHome, 'events.windows')).toEqual(windows[0]);
  });

  it('postings: the HN 2026 runs replayed twice give identical rows in every table', async () => {
    const { snapshots } = await replayTwice(['postings', '--input', dataFile('postings', 'hn-hiring-2026')]);
    const [first, second] = snapshots;
    expect(first!.postings!.length).toBeGreaterThan(0);
    for (const table of Object.keys(first!)) expect(second![table], table).toEqual(first![table]);
  });

  it('--from/--to replays exactly the records in range', async () => {
    const times = nabTimestamps(NYC_TAXI);
    const from = times[Math.floor(times.length / 3)]!;
    const to = times[Math.floor((2 * times.length) / 3)]! + 1; // --to is exclusive: include that last record
    const expected = times.filter((t) => t >= from && t < to);
    const home = tempHome('range');
    const runId = await replay(['events', '--input', NYC_TAXI, '--from', iso(from), '--to', iso(to)], {
      ...embedded,
      DRIFTLINE_HOME: home,
    });
    const snapshot = await warehouseSnapshot(home, runId);
    const replayed = snapshot.events!.map((r) => JSON.parse(r).ts as number).sort((a, b) => a - b);
    expect(replayed).toEqual(expected.sort((a, b) => a - b));
    const source = snapshot.pipeline_metrics!.map((r) => JSON.parse(r)).find((m) => m.stage === 'source:files');
    expect(Number(source.records_in)).toBe(expected.length);
  });
});
