/**
 * NAB's score of one data file at one threshold, per record and in total, as the benchmark defines it
 * (numenta/NAB `nab/scorer.py`, `nab/sweeper.py`, `nab/optimizer.py`):
 *
 *   - probation: the first min(⌊15 % of the rows⌋, 750) records are not scored (the detector is learning);
 *   - a labelled window covers the records whose timestamps lie within [start, end];
 *   - a window's FIRST detection is its true positive, worth tpWeight · σ(position) / σ(-1), where position runs
 *     from −1 at the window's first record towards 0 past its last (earlier is better); later detections in the
 *     same window add nothing; a window without detection costs fnWeight;
 *   - a detection outside every window is a false positive worth fpWeight · σ(distance past the preceding window in
 *     window lengths), i.e. slightly less than −fpWeight right after a window and −fpWeight far from it; before
 *     the first window it costs fpWeight.
 *
 * σ is the scaled sigmoid 2/(1 + e^(5x)) − 1, clipped to ±1 beyond |x| > 3. A detection is an anomaly score at or
 * above the threshold.
 */
import type { LabelledWindow } from './nab-scoring.ts';

/** One profile's weights (`profiles.json` → CostMatrix). */
export interface CostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

export interface Counts {
  tp: number;
  tn: number;
  fp: number;
  fn: number;
}

export interface FileScore extends Counts {
  score: number;
  /** S(t): each record's contribution (the window's TP or FN score sits on the window's first record). */
  perRecord: number[];
}

/** A window as record indices, both ends inclusive. */
export interface IndexWindow {
  start: number;
  end: number;
}

export function scaledSigmoid(position: number): number {
  if (position > 3) return -1;
  if (position < -3) return 1;
  return 2 / (1 + Math.exp(5 * position)) - 1;
}

const MAX_TP = scaledSigmoid(-1);

/** Records not scored at the start of a file of `rows` records. */
export const probationLength = (rows: number): number => Math.min(Math.floor(0.15 * rows), 0.15 * 5000);

/** Labelled windows → record index ranges (a window holding no record is dropped: nothing can be detected there). */
export function windowIndices(timestamps: readonly number[], windows: readonly LabelledWindow[]): IndexWindow[] {
  const out: IndexWindow[] = [];
  for (const w of [...windows].sort((a, b) => a.start - b.start)) {
    let start = -1;
    let end = -1;
    for (let i = 0; i < timestamps.length; i++) {
      if (timestamps[i]! < w.start || timestamps[i]! > w.end) continue;
      if (start < 0) start = i;
      end = i;
    }
    if (start >= 0) out.push({ start, end });
  }
  return out;
}

/** Score of a true positive at record `i` of `w`: 1 at the window's first record, falling towards 0 at its end. */
export const truePositiveScore = (i: number, w: IndexWindow): number =>
  scaledSigmoid(-(w.end - i + 1) / (w.end - w.start + 1)) / MAX_TP;

/** Score (before fpWeight) of a false positive at record `i` after window `w` (undefined: before any window). */
export function falsePositiveScore(i: number, w: IndexWindow | undefined): number {
  if (w === undefined) return -1;
  const length = w.end - w.start + 1;
  return scaledSigmoid(length <= 1 ? 2 : (i - w.end) / (length - 1));
}

/** Scores one file: `detected(i)` says whether record i is a detection. */
export function scoreFile(
  rows: number,
  windows: readonly IndexWindow[],
  detected: (i: number) => boolean,
  cost: CostMatrix,
): FileScore {
  const perRecord = new Array<number>(rows).fill(0);
  const counts: Counts = { tp: 0, tn: 0, fp: 0, fn: 0 };
  const probation = probationLength(rows);
  let score = 0;
  let next = 0; // the next window to enter
  let firstHit: number | undefined; // the current window's first detection
  for (let i = 0; i < rows; i++) {
    while (next < windows.length && windows[next]!.end < i) next++;
    const inside = next < windows.length && windows[next]!.start <= i ? windows[next] : undefined;
    if (i < probation) continue;
    const hit = detected(i);
    if (inside) {
      counts[hit ? 'tp' : 'fn']++;
      if (hit && firstHit === undefined) firstHit = i;
      if (i === inside.end) {
        const s = firstHit === undefined ? -cost.fnWeight : truePositiveScore(firstHit, inside) * cost.tpWeight;
        perRecord[inside.start] = s;
        score += s;
        firstHit = undefined;
      }
    } else if (hit) {
      counts.fp++;
      const s = falsePositiveScore(i, next > 0 ? windows[next - 1] : undefined) * cost.fpWeight;
      perRecord[i] = s;
      score += s;
    } else counts.tn++;
  }
  return { score, perRecord, ...counts };
}
