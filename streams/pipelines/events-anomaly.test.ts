/**
 * The events pipeline's per-record anomaly scores, end to end through the real CLI (embedded log and warehouse):
 * a constant series (NAB's art_flatline) in a multi-series replay neither crashes the run nor changes the other
 * series' rows; the stored scores are the detector's own, online, record by record; row ids come from the input.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SeriesAnomalyDetector } from '../../operators/anomaly/series-detector.ts';
import { openWarehouse } from '../../connectors/warehouse/warehouse.ts';
import { dataDir, dataFile } from '../../test/data-dir.ts';
import { driftlineOk } from '../../test/e2e/cli.ts';
import { readNabCsv } from './nab-corpus.ts';

const NAB_DATA = dataFile('events', 'nab', 'data');
const OTHERS = ['realAdExchange/exchange-2_cpc_results.csv', 'realTraffic/speed_7578.csv'];
const FLATLINE = 'artificialNoAnomaly/art_flatline.csv';
const FLATLINE_ROWS = 1300;
const dir = mkdtempSync(join(tmpdir(), 'driftline-events-anomaly-'));

type Rows = Record<string, unknown>[];

async function query(home: string, sql: string): Promise<Rows> {
  const warehouse = await openWarehouse({ home });
  try {
    return await warehouse.query(sql);
  } finally {
    await warehouse.close();
  }
}

/** Replays `files` together from one directory; returns its rows without the run id. */
async function replay(name: string, files: string[]) {
  const input = join(dir, name, 'input');
  mkdirSync(input, { recursive: true });
  for (const f of files) {
    const target = join(input, f.split('/')[1]!);
    // The constant series is cut to 1,300 rows: past the drift reference (1,000), which is where it used to crash.
    if (f === FLATLINE)
      writeFileSync(
        target,
        readFileSync(join(NAB_DATA, f), 'utf8')
          .split('\n')
          .slice(0, FLATLINE_ROWS + 1)
          .join('\n'),
      );
    else copyFileSync(join(NAB_DATA, f), target);
  }
  const home = join(dir, name, 'home');
  const output = await driftlineOk(['run', 'events', '--input', input, '--until-idle'], {
    DRIFTLINE_HOME: home,
    CLICKHOUSE_URL: '',
    KAFKA_BROKERS: '',
    DRIFTLINE_DATA_DIR: dataDir(),
  });
  const runId = /run (\S+) done/.exec(output)![1]!;
  const strip = (rows: Rows): Rows =>
    rows.map((r) => ({ ...r, id: String(r.id).replace(runId, '<run>'), run_id: undefined }));
  return {
    scores: strip(await query(home, 'SELECT * FROM event_anomaly_scores ORDER BY key, ts, value')),
    alerts: strip(await query(home, 'SELECT * FROM anomaly_alerts ORDER BY key, ts, value')),
    drift: strip(await query(home, 'SELECT * FROM drift_alerts ORDER BY id')),
    metrics: strip(await query(home, 'SELECT * FROM drift_metrics ORDER BY id')),
  };
}

const series = (path: string) => path.split('/')[1]!.replace('.csv', '');
const ofSeries = (rows: Rows, keys: string[]) =>
  rows.filter((r) => keys.includes(String(r.key)) || keys.some((k) => String(r.id).includes(`/${k}/`)));

describe('events: per-record anomaly scores in a multi-series replay', () => {
  it('scores a constant series without stopping the run, and leaves the other series as without it', async () => {
    const without = await replay('without', OTHERS);
    const withFlat = await replay('with', [...OTHERS, FLATLINE]);
    const others = OTHERS.map(series);

    const flat = withFlat.scores.filter((r) => r.key === 'art_flatline');
    expect(flat).toHaveLength(FLATLINE_ROWS);
    expect(Math.max(...flat.map((r) => Number(r.score)))).toBeLessThan(0.45);
    expect(withFlat.alerts.filter((r) => r.key === 'art_flatline')).toEqual([]);

    expect(ofSeries(withFlat.scores, others)).toEqual(without.scores);
    expect(ofSeries(withFlat.alerts, others)).toEqual(without.alerts);
    expect(without.alerts.length).toBeGreaterThan(0);
    expect(ofSeries(withFlat.drift, others)).toEqual(without.drift);
    expect(ofSeries(withFlat.metrics, others)).toEqual(without.metrics);

    // Ids are the input's (pipeline/source/key/ts/value), the same in both runs.
    const first = without.scores[0]!;
    expect(first.id).toBe(`events/${first.source}/${first.key}/${Number(first.ts)}/${Number(first.value)}`);

    // The stored scores are the detector's, fed the file's values in order (no look-ahead, nothing reordered).
    // Matched by time and value: the file has two readings at one time, which no ORDER BY puts back in file order.
    const file = readNabCsv(join(NAB_DATA, OTHERS[0]!));
    const detector = new SeriesAnomalyDetector();
    const expected = new Map(file.values.map((v, i) => [`${file.timestamps[i]}/${v}`, detector.score(v).score]));
    const stored = without.scores.filter((r) => r.key === series(OTHERS[0]!));
    expect(stored).toHaveLength(file.values.length);
    const worst = Math.max(
      ...stored.map((r) => Math.abs(Number(r.score) - expected.get(`${Number(r.ts)}/${Number(r.value)}`)!)),
    );
    expect(worst).toBeLessThan(1e-12);
  }, 180_000);
});
