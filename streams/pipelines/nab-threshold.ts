/**
 * NAB's corpus score of a detector for one profile: the one threshold that maximises the summed raw score over every
 * file (NAB's optimiser: lower the threshold record by record from the highest anomaly score, updating the score as
 * each record becomes a detection), each file scored at it (nab-sweep.ts), and the total normalised so that the
 * null detector (no detection: every window a false negative) scores 0 and the perfect one (a detection on each
 * window's first record) scores 100.
 */
import {
  type CostMatrix,
  falsePositiveScore,
  type FileScore,
  type IndexWindow,
  probationLength,
  scoreFile,
  truePositiveScore,
} from './nab-sweep.ts';

/** One file's anomaly scores (one per record, in record order) and its windows as record indices. */
export interface ScoredFile {
  path: string;
  scores: ArrayLike<number>;
  windows: IndexWindow[];
}

export interface CorpusScore {
  threshold: number;
  /** Summed raw score of all files. */
  raw: number;
  /** 100 · (raw − null) / (perfect − null); null when no file has a scored window. */
  normalised: number | null;
  windows: number;
  files: (FileScore & { path: string })[];
}

/** Windows that end after the probation period: the only ones a detector can find. */
export const scoredWindows = (f: ScoredFile): IndexWindow[] =>
  f.windows.filter((w) => w.end >= probationLength(f.scores.length));

/** 100 · (raw − null) / (perfect − null) for `windows` windows; null without windows. */
export function normalise(raw: number, windows: number, cost: CostMatrix): number | null {
  if (windows === 0) return null;
  const nullScore = -cost.fnWeight * windows;
  return (100 * (raw - nullScore)) / (cost.tpWeight * windows - nullScore);
}

/** Where a record sits: its file, index and the window it is in or last passed. */
interface Point {
  score: number;
  file: number;
  index: number;
}

/** The threshold with the best summed raw score; ties go to the higher threshold (fewer detections). */
export function optimiseThreshold(files: readonly ScoredFile[], cost: CostMatrix): number {
  const windows = files.map(scoredWindows);
  const points: Point[] = [];
  files.forEach((f, file) => {
    const probation = probationLength(f.scores.length);
    for (let index = probation; index < f.scores.length; index++) points.push({ score: f.scores[index]!, file, index });
  });
  points.sort((a, b) => b.score - a.score);
  const firstHit = windows.map((ws) => new Array<number | undefined>(ws.length));
  let score = -cost.fnWeight * windows.reduce((n, ws) => n + ws.length, 0);
  let best = { score, threshold: Number.POSITIVE_INFINITY };
  for (let p = 0; p < points.length; p++) {
    const { file, index } = points[p]!;
    score += scoreChange(windows[file]!, firstHit[file]!, index, cost);
    const last = p === points.length - 1 || points[p + 1]!.score !== points[p]!.score;
    if (last && score > best.score) best = { score, threshold: points[p]!.score };
  }
  return best.threshold;
}

/** How the raw score changes when record `index` of a file becomes a detection. */
function scoreChange(
  windows: readonly IndexWindow[],
  firstHit: (number | undefined)[],
  index: number,
  cost: CostMatrix,
): number {
  const w = precedingWindow(windows, index);
  if (w < 0) return falsePositiveScore(index, undefined) * cost.fpWeight;
  const window = windows[w]!;
  if (index > window.end) return falsePositiveScore(index, window) * cost.fpWeight;
  const previous = firstHit[w];
  if (previous !== undefined && previous < index) return 0;
  firstHit[w] = index;
  const gained = truePositiveScore(index, window) * cost.tpWeight;
  return previous === undefined ? cost.fnWeight + gained : gained - truePositiveScore(previous, window) * cost.tpWeight;
}

/** The last window starting at or before `index` (−1: none). Windows are sorted and disjoint. */
function precedingWindow(windows: readonly IndexWindow[], index: number): number {
  let lo = 0;
  let hi = windows.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (windows[mid]!.start <= index) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Scores every file at `threshold` (default: the optimised one) and normalises the total. */
export function scoreCorpus(
  files: readonly ScoredFile[],
  cost: CostMatrix,
  threshold = optimiseThreshold(files, cost),
): CorpusScore {
  const scored = files.map((f) => {
    const detected = (i: number) => f.scores[i]! >= threshold;
    return { path: f.path, ...scoreFile(f.scores.length, scoredWindows(f), detected, cost) };
  });
  const raw = scored.reduce((s, f) => s + f.score, 0);
  const windows = files.reduce((n, f) => n + scoredWindows(f).length, 0);
  return { threshold, raw, normalised: normalise(raw, windows, cost), windows, files: scored };
}
