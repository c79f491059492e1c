/**
 * A and B's accuracy per window as the Drift page charts it: realized (from labels) beside estimated (CBPE, from
 * calibrated confidence), and where the two part by more than ESTIMATE_TOLERANCE. CBPE assumes covariate shift — the
 * inputs move, P(label | input) stays — so under concept shift a model can stay confident while it is wrong, and the
 * estimate stays high. The page shows those windows rather than smoothing them away.
 */
import { num } from './canonical.ts';
import type { Row } from '../../connectors/warehouse/warehouse-reader.ts';

/** Estimate vs realized accuracy beyond this is called out (the same margin as model_comparison's estimate alerts). */
export const ESTIMATE_TOLERANCE = 0.05;

/**
 * Labelled postings a window needs for its realized accuracy to be charted and held against the estimate: one or two
 * labels make a realized accuracy of 0 or 1 that says nothing (the test fixture's last window has a single one).
 */
export const MIN_LABELLED = 30;

/** Estimated − realized, or null when either is missing. */
const gap = (estimated: unknown, realized: unknown) => {
  const [e, r] = [num(estimated), num(realized)];
  return e === null || r === null ? null : e - r;
};

/**
 * Each window with its estimate gaps, and whether its realized accuracy is charted: the windows with at least
 * MIN_LABELLED labelled postings (only they have a realized accuracy to hold the estimate against) or, when none has
 * that many, every window. Windows not charted get no gaps.
 */
export function accuracyWindows<T extends Row>(rows: readonly T[]) {
  const enough = (r: Row) => (num(r.labeled) ?? 0) >= MIN_LABELLED;
  const anyEnough = rows.some(enough);
  return rows.map((r) => {
    const [gapA, gapB] = enough(r)
      ? [gap(r.estimated_accuracy_a, r.accuracy_a), gap(r.estimated_accuracy_b, r.accuracy_b)]
      : [null, null];
    return {
      ...r,
      charted: !anyEnough || enough(r),
      estimate_gap_a: gapA,
      estimate_gap_b: gapB,
      estimate_off_a: gapA !== null && Math.abs(gapA) > ESTIMATE_TOLERANCE,
      estimate_off_b: gapB !== null && Math.abs(gapB) > ESTIMATE_TOLERANCE,
    };
  });
}
