import { describe, expect, it } from 'vitest';
import type { StreamRecord } from '../../streams/kernel/record.ts';
import { AnomalyLikelihood, logScale } from './anomaly-likelihood.ts';
import { anomalyAlertRows, anomalyScoreRow } from './anomaly-rows.ts';
import { anomalyScores } from './anomaly-score.ts';
import { RobustWindow } from './robust-window.ts';
import { DETECTOR_DEFAULTS, SeriesAnomalyDetector } from './series-detector.ts';

/** Deterministic noise in [-1, 1) (a linear congruential generator), so tests do not depend on Math.random. */
function noise(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 30 - 1;
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

describe('robust window', () => {
  it('keeps the median and MAD of the last `size` values, as sorting them would', () => {
    const w = new RobustWindow(7);
    const r = noise(1);
    const all: number[] = [];
    for (let i = 0; i < 50; i++) {
      const x = Math.round(r() * 10);
      all.push(x);
      w.push(x);
      const last = all.slice(-7);
      expect(w.median()).toBe(median(last));
      expect(w.mad()).toBe(median(last.map((v) => Math.abs(v - median(last)))));
      expect(w.range()).toEqual([Math.min(...last), Math.max(...last)]);
    }
  });
});

describe('anomaly likelihood', () => {
  it('is 0.5 while learning, low for the usual noise and near 1 for a sustained burst', () => {
    const l = new AnomalyLikelihood();
    const r = noise(2);
    const usual: number[] = [];
    for (let i = 0; i < 600; i++) usual.push(l.update(0.5 + 0.1 * r()));
    expect(usual[10]).toBe(0.5);
    expect(Math.max(...usual.slice(300).map(logScale))).toBeLessThan(0.3);
    let burst = 0;
    for (let i = 0; i < 20; i++) burst = l.update(1);
    expect(logScale(burst)).toBeGreaterThan(0.5);
  });
});

describe('series anomaly detector', () => {
  const series = (n: number, seed: number) => {
    const r = noise(seed);
    return Array.from({ length: n }, (_, i) => 100 + 10 * Math.sin(i / 20) + r());
  };

  it('scores a constant series without failing: finite, and never an alert', () => {
    const d = new SeriesAnomalyDetector();
    const scores = Array.from({ length: 2000 }, () => d.score(42).score);
    expect(scores.every(Number.isFinite)).toBe(true);
    expect(Math.max(...scores)).toBeLessThan(0.45);
  });

  it('raises a spike far above the usual, after a short warm-up, and keeps quiet right after it', () => {
    const d = new SeriesAnomalyDetector();
    const values = series(400, 3);
    const before = values.map((v) => d.score(v).score);
    const spike = d.score(300);
    expect(spike.score).toBeGreaterThanOrEqual(0.45);
    expect(spike.novelty).toBe(true);
    expect(Math.max(...before.slice(0, 30))).toBe(0); // warm-up
    // A record at or above alertLevel starts a quiet period (novelty alone, 0.45, is below the default 0.5).
    const q = new SeriesAnomalyDetector({ ...DETECTOR_DEFAULTS, alertLevel: 0.45 });
    for (const v of values) q.score(v);
    expect(q.score(300).score).toBeGreaterThanOrEqual(0.45);
    expect(q.score(301).score).toBe(0);
  });

  it("is online: a record's score does not depend on what comes after it", () => {
    const values = series(600, 4);
    const a = new SeriesAnomalyDetector();
    const b = new SeriesAnomalyDetector();
    const prefix = values.slice(0, 300).map((v) => a.score(v).score);
    const whole = values.map((v) => b.score(v).score);
    expect(whole.slice(0, 300)).toEqual(prefix);
  });
});

describe('the anomaly-score operator', () => {
  const record = (key: string, value: number, i: number): StreamRecord<{ value: number }> => ({
    key,
    value: { value },
    eventTime: i,
    headers: {},
    position: { topic: 't', partition: 0, offset: i },
  });

  it('keeps one detector per series: interleaved series score as they would alone; non-finite values get null', () => {
    const r = noise(5);
    const a = Array.from({ length: 300 }, () => 10 + r());
    const b = Array.from({ length: 300 }, (_, i) => (i === 250 ? 500 : 50 + r()));
    const together = anomalyScores<{ value: number }>({ value: (v) => v.value });
    const mixed = together(a.flatMap((x, i) => [record('a', x, i), record('b', b[i]!, i)]));
    const alone = anomalyScores<{ value: number }>({ value: (v) => v.value });
    const onlyB = alone(b.map((x, i) => record('b', x, i)));
    expect(mixed.filter((m) => m.key === 'b').map((m) => m.value.anomaly)).toEqual(onlyB.map((m) => m.value.anomaly));
    expect(onlyB[250]!.value.anomaly!.score).toBeGreaterThanOrEqual(0.45);
    expect(together([record('a', Number.NaN, 301)])[0]!.value.anomaly).toBeNull();
  });

  it('makes rows whose ids come from the input, and an alert row only at or above the threshold', () => {
    const e = { source: 'nab', key: 'nyc_taxi', ts: 1_404_172_800_000, value: 10844, values: {}, attributes: {} };
    const signals = { score: 0.6, zScore: 7, likelihood: 0.9, novelty: true, change: false };
    const row = anomalyScoreRow(e, signals, 0.45, 'events', 'run-1');
    expect(row).toMatchObject({
      id: 'events/nab/nyc_taxi/1404172800000/10844',
      version: 0,
      score: 0.6,
      novelty: 1,
      alert: 1,
      threshold: 0.45,
    });
    expect(anomalyScoreRow(e, signals, 0.45, 'events', 'run-2').id).toBe(row.id);
    expect(anomalyAlertRows(e, signals, 0.45, 'events', 'run-1')).toEqual([
      {
        id: row.id,
        version: 0,
        run_id: 'run-1',
        pipeline: 'events',
        source: 'nab',
        key: 'nyc_taxi',
        ts: e.ts,
        value: 10844,
        score: 0.6,
        threshold: 0.45,
        reason: 'novelty',
      },
    ]);
    expect(anomalyAlertRows(e, { ...signals, score: 0.44 }, 0.45, 'events', 'run-1')).toEqual([]);
  });
});
