/**
 * The NAB scorer against the benchmark's own published output (`results/windowedGaussian/`): per-record S(t) and
 * per-file scores and counts for all three profiles, from the detector's raw scores in those files; and the Windowed
 * Gaussian baseline's raw scores recomputed from the data.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { windowedGaussianScores } from '../../operators/anomaly/windowed-gaussian.ts';
import { dataFile } from '../../test/data-dir.ts';
import { type NabFile, PROFILES, readNabCorpus, readNabProfiles } from './nab-corpus.ts';
import { windowIndices } from './nab-sweep.ts';
import { optimiseThreshold, type ScoredFile, scoreCorpus } from './nab-threshold.ts';

const NAB = dataFile('events', 'nab');
const RESULTS = dataFile('events', 'nab', 'results', 'windowedGaussian');

/** A reference results file: its columns by name. */
function readResults(path: string): Record<string, number[]> {
  const [category, name] = path.split('/');
  const lines = readFileSync(`${RESULTS}/${category}/windowedGaussian_${name}`, 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const rows = lines.slice(1).map((l) => l.split(','));
  return Object.fromEntries(header.slice(1).map((h, j) => [h, rows.map((r) => Number(r[j + 1]))]));
}

/** `windowedGaussian_<profile>_scores.csv`: path → the row's numbers. */
function readScoreTable(profile: string) {
  const lines = readFileSync(`${RESULTS}/windowedGaussian_${profile}_scores.csv`, 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => {
    const [, , path, threshold, score, tp, tn, fp, fn] = l.split(',');
    return {
      path: path!,
      threshold: Number(threshold),
      score: Number(score),
      tp: Number(tp),
      tn: Number(tn),
      fp: Number(fp),
      fn: Number(fn),
    };
  });
}

describe("NAB's scorer reproduces the benchmark's Windowed Gaussian results", () => {
  const corpus: NabFile[] = readNabCorpus(NAB);
  const results = new Map(corpus.map((f) => [f.path, readResults(f.path)]));
  const files: ScoredFile[] = corpus.map((f) => ({
    path: f.path,
    scores: results.get(f.path)!.anomaly_score!,
    windows: windowIndices(f.timestamps, f.windows),
  }));
  const profiles = readNabProfiles(NAB);

  it.each(PROFILES)("%s: every file's score, counts and per-record S(t) at the reference threshold", (profile) => {
    const table = readScoreTable(profile);
    expect(table).toHaveLength(corpus.length);
    const scored = scoreCorpus(files, profiles[profile], table[0]!.threshold);
    for (const row of table) {
      const file = scored.files.find((f) => f.path === row.path)!;
      expect(file.score, row.path).toBeCloseTo(row.score, 9);
      expect({ tp: file.tp, tn: file.tn, fp: file.fp, fn: file.fn }, row.path).toEqual({
        tp: row.tp,
        tn: row.tn,
        fp: row.fp,
        fn: row.fn,
      });
      const expected = results.get(row.path)![`S(t)_${profile}`]!;
      const worst = Math.max(...expected.map((s, i) => Math.abs(s - file.perRecord[i]!)));
      expect(worst, row.path).toBeLessThan(1e-9);
    }
  });

  it("finds a threshold at least as good as the reference's (NAB's own search stops at 1.0)", () => {
    for (const profile of PROFILES) {
      const reference = scoreCorpus(files, profiles[profile], readScoreTable(profile)[0]!.threshold);
      const optimised = scoreCorpus(files, profiles[profile], optimiseThreshold(files, profiles[profile]));
      expect(optimised.raw).toBeGreaterThanOrEqual(reference.raw - 1e-9);
    }
  });

  it("normalises: no detection scores 0, a detection on each window's first record 100", () => {
    const silent = files.map((f) => ({ ...f, scores: new Array<number>(f.scores.length).fill(0) }));
    const perfect = files.map((f) => {
      const scores = new Array<number>(f.scores.length).fill(0);
      for (const w of f.windows) scores[w.start] = 1;
      return { ...f, scores };
    });
    for (const profile of PROFILES) {
      expect(scoreCorpus(silent, profiles[profile], 0.5).normalised).toBeCloseTo(0, 9);
      expect(scoreCorpus(perfect, profiles[profile]).normalised).toBeCloseTo(100, 9);
    }
  });

  it("recomputes the Windowed Gaussian's raw scores from the data (to 1e-6)", () => {
    for (const path of [
      'realKnownCause/nyc_taxi.csv',
      'realAdExchange/exchange-2_cpc_results.csv',
      'artificialNoAnomaly/art_flatline.csv',
    ]) {
      const values = corpus.find((f) => f.path === path)!.values;
      const mine = windowedGaussianScores(values);
      const reference = results.get(path)!.anomaly_score!;
      expect(Math.max(...reference.map((s, i) => Math.abs(s - mine[i]!))), path).toBeLessThan(1e-6);
    }
  });
});
