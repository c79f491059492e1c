/**
 * Calibration of a classifier's top-class probability, for confidence-based performance estimation (CBPE, as
 * NannyML does it): on the model's reference data (held out from training, labelled), fit a monotone map from "how
 * sure the model was of its top class" to "how often the top class was right". On unlabelled data, the mean of the
 * calibrated top-class probabilities is then the accuracy to expect. Multi-class accuracy reduces to this one binary
 * problem: a prediction is right exactly when its top class is.
 *
 * Two methods: isotonic regression (pool-adjacent-violators; no shape assumed, the default) and Platt scaling (a
 * logistic curve on the logit of the probability; two parameters, so it needs far fewer rows). A Calibration is plain
 * JSON, stored beside the model version (calibration-store.ts).
 */

export type CalibrationMethod = 'isotonic' | 'platt';

interface CalibrationBase {
  /** Reference rows it was fitted on. */
  reference_rows: number;
  /** Share of the reference rows whose top class was right: the model's accuracy on its reference data. */
  reference_accuracy: number;
}

/** Breakpoints of a non-decreasing step-and-ramp curve: linear between them, flat beyond the first and last. */
export interface IsotonicCalibration extends CalibrationBase {
  method: 'isotonic';
  /** Top-class probabilities, strictly increasing. */
  x: number[];
  /** Calibrated probabilities at `x`, non-decreasing. */
  y: number[];
}

/** calibrated = sigmoid(a · logit(p) + b). */
export interface PlattCalibration extends CalibrationBase {
  method: 'platt';
  a: number;
  b: number;
}

export type Calibration = IsotonicCalibration | PlattCalibration;

/**
 * Below this many reference rows `isotonic` falls back to Platt scaling (and says so in `method`): isotonic regression
 * on a handful of rows is a staircase of 0s and 1s, while Platt's two parameters and smoothed targets stay sane.
 */
export const MIN_ISOTONIC_ROWS = 100;

/**
 * Fits a calibration of top-class probabilities `topProbs` against whether each top class was right. `priorRows`
 * (isotonic): how many rows a block needs before its hit rate outweighs its own confidence (ISOTONIC_PRIOR_ROWS; 0 for
 * plain isotonic regression).
 */
export function fitCalibration(
  topProbs: ArrayLike<number>,
  correct: ArrayLike<0 | 1 | boolean>,
  method: CalibrationMethod,
  options: { priorRows?: number } = {},
): Calibration {
  if (method !== 'isotonic' && method !== 'platt')
    throw new Error(`fitCalibration: unknown method ${JSON.stringify(method)}`);
  const n = topProbs.length;
  if (correct.length !== n)
    throw new Error(`fitCalibration: ${n} probabilities but ${correct.length} correctness flags`);
  if (n === 0) throw new Error('fitCalibration: no reference rows to fit on');
  const p = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = topProbs[i]!;
    if (!Number.isFinite(v) || v < 0 || v > 1 + 1e-6)
      throw new Error(`fitCalibration: probability ${v} at row ${i} is not in [0, 1]`);
    p[i] = Math.min(v, 1);
    y[i] = correct[i] ? 1 : 0;
  }
  const base = { reference_rows: n, reference_accuracy: y.reduce((s, v) => s + v, 0) / n };
  if (method === 'isotonic' && n >= MIN_ISOTONIC_ROWS)
    return { method: 'isotonic', ...base, ...fitIsotonic(p, y, options.priorRows ?? ISOTONIC_PRIOR_ROWS) };
  return { method: 'platt', ...base, ...fitPlatt(p, y) };
}

/** The calibrated probability that a prediction with top-class probability `p` is right. */
export function calibrate(cal: Calibration, p: number): number {
  if (!Number.isFinite(p)) throw new Error(`calibrate: probability ${p} is not a finite number`);
  const q = Math.min(1, Math.max(0, p)); // float32 probabilities may overshoot 1 by an ulp
  if (cal.method === 'platt') return sigmoid(cal.a * logit(q) + cal.b);
  const { x, y } = cal;
  if (q <= x[0]!) return y[0]!;
  if (q >= x[x.length - 1]!) return y[y.length - 1]!;
  let lo = 0;
  let hi = x.length - 1; // x[lo] < q < x[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= q) lo = mid;
    else hi = mid;
  }
  return y[lo]! + ((y[hi]! - y[lo]!) * (q - x[lo]!)) / (x[hi]! - x[lo]!);
}

/** Expected accuracy of predictions with these top-class probabilities: the mean calibrated probability. */
export function expectedAccuracy(cal: Calibration, topProbs: ArrayLike<number>): number {
  if (topProbs.length === 0) throw new Error('expectedAccuracy: no predictions');
  let sum = 0;
  for (let i = 0; i < topProbs.length; i++) sum += calibrate(cal, topProbs[i]!);
  return sum / topProbs.length;
}

/** Whether a parsed JSON value is a usable Calibration (a stored file may be hand-edited or truncated). */
export function isCalibration(value: unknown): value is Calibration {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<keyof IsotonicCalibration | keyof PlattCalibration, unknown>;
  if (!Number.isFinite(v.reference_accuracy) || !Number.isInteger(v.reference_rows)) return false;
  if (v.method === 'platt') return Number.isFinite(v.a) && Number.isFinite(v.b);
  const points = (xs: unknown): xs is number[] => Array.isArray(xs) && xs.length > 0 && xs.every(Number.isFinite);
  return v.method === 'isotonic' && points(v.x) && points(v.y) && v.x.length === v.y.length;
}

/**
 * Reference rows a block of the isotonic curve needs before its own hit rate outweighs the model's confidence: a
 * block is pulled toward its rows' mean top-class probability as if it held this many more rows at that rate. A
 * region the reference barely covers (three wrong predictions at 0.6 on a 99 % accurate reference) would otherwise
 * claim 0 % accuracy for every new prediction that lands there — which drifted data does.
 */
export const ISOTONIC_PRIOR_ROWS = 20;

interface Block {
  from: number;
  to: number;
  /** Sum of the calibrated target (hits, or the pulled value times the weight). */
  sum: number;
  weight: number;
  /** Sum of the rows' own top-class probabilities. */
  confidence: number;
  rows: number;
}

const blockMean = (b: Block) => b.sum / b.weight;

/** Pushes a block onto a stack of strictly increasing means, pooling the blocks below it that it violates. */
function pushPooled(blocks: Block[], block: Block): void {
  while (blocks.length > 0 && blockMean(blocks.at(-1)!) >= blockMean(block)) {
    const below = blocks.pop()!;
    block.from = below.from;
    block.sum += below.sum;
    block.weight += below.weight;
    block.confidence += below.confidence;
    block.rows += below.rows;
  }
  blocks.push(block);
}

/**
 * Pool-adjacent-violators over rows sorted by probability (equal probabilities pooled first: one x, one y); then each
 * block is pulled toward its own confidence (`priorRows`) and the pulled blocks pooled again to stay monotone.
 */
function fitIsotonic(p: Float64Array, y: Float64Array, priorRows: number): { x: number[]; y: number[] } {
  const order = Array.from(p.keys()).sort((i, j) => p[i]! - p[j]!);
  const blocks: Block[] = [];
  for (let k = 0; k < order.length; ) {
    const x = p[order[k]!]!;
    const block: Block = { from: x, to: x, sum: 0, weight: 0, confidence: 0, rows: 0 };
    for (; k < order.length && p[order[k]!] === x; k++) {
      block.sum += y[order[k]!]!;
      block.weight++;
      block.confidence += x;
      block.rows++;
    }
    pushPooled(blocks, block);
  }
  const pulled: Block[] = [];
  for (const b of blocks) {
    pushPooled(pulled, { ...b, sum: b.sum + priorRows * (b.confidence / b.rows), weight: b.weight + priorRows });
  }
  // Merging on equal means too leaves no flat run of several blocks: two breakpoints per block suffice.
  const xs: number[] = [];
  const ys: number[] = [];
  for (const b of pulled) {
    xs.push(b.from);
    ys.push(blockMean(b));
    if (b.to > b.from) {
      xs.push(b.to);
      ys.push(blockMean(b));
    }
  }
  return { x: xs, y: ys };
}

/**
 * Platt scaling by Newton's method with backtracking, on Platt's smoothed targets ((N₊ + 1) / (N₊ + 2) for right,
 * 1 / (N₋ + 2) for wrong), as in Lin, Lin and Weng (2007): all-right references do not map everything to exactly 1.
 */
function fitPlatt(p: Float64Array, y: Float64Array): { a: number; b: number } {
  const n = p.length;
  const positives = y.reduce((s, v) => s + v, 0);
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (n - positives + 2);
  const f = p.map(logit);
  const t = y.map((v) => (v ? hi : lo));
  const b0 = Math.log((positives + 1) / (n - positives + 1));
  // One distinct probability says nothing about the slope: the calibrated value is the smoothed accuracy.
  if (f.every((v) => v === f[0])) return { a: 0, b: logit(t.reduce((s, v) => s + v, 0) / n) };
  const loss = (a: number, b: number) => {
    let l = 0;
    for (let i = 0; i < n; i++) {
      const z = a * f[i]! + b;
      l += t[i]! * softplus(-z) + (1 - t[i]!) * softplus(z);
    }
    return l;
  };
  let [a, b] = [0, b0];
  let current = loss(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let [ga, gb, haa, hab, hbb] = [0, 0, 1e-12, 0, 1e-12];
    for (let i = 0; i < n; i++) {
      const q = sigmoid(a * f[i]! + b);
      const d = q * (1 - q);
      ga += (q - t[i]!) * f[i]!;
      gb += q - t[i]!;
      haa += d * f[i]! * f[i]!;
      hab += d * f[i]!;
      hbb += d;
    }
    if (Math.abs(ga) < 1e-7 * n && Math.abs(gb) < 1e-7 * n) break;
    const det = haa * hbb - hab * hab;
    const da = -(hbb * ga - hab * gb) / det;
    const db = -(haa * gb - hab * ga) / det;
    const slope = ga * da + gb * db;
    let step = 1;
    while (step >= 1e-10) {
      const next = loss(a + step * da, b + step * db);
      if (next < current + 1e-4 * step * slope) {
        [a, b, current] = [a + step * da, b + step * db, next];
        break;
      }
      step /= 2;
    }
    if (step < 1e-10) break; // no further descent: as good as it gets
  }
  return { a, b };
}

// Probabilities of exactly 0 or 1 (float32 saturates) get a finite logit.
const EPS = 1e-7;
const logit = (p: number) => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};
const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
