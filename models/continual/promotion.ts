/**
 * The promotion rule: a candidate replaces the current Model B only if its accuracy on the human-labelled holdout is
 * strictly higher than the current B's on the same holdout, evaluated in the same run (the holdout grows as labels
 * arrive, so numbers recorded at an earlier registration are not comparable). A tie keeps the current model: a swap
 * has a cost (new sessions, a version change in every downstream table) and gains nothing measurable.
 */
export interface PromotionDecision {
  promote: boolean;
  reason: string;
}

export function promotionDecision(
  candidateAccuracy: number,
  currentAccuracy: number,
  holdoutSize: number,
): PromotionDecision {
  const fmt = (x: number) => x.toFixed(4);
  if (holdoutSize === 0) return { promote: false, reason: 'empty holdout: nothing to judge the candidate on' };
  if (candidateAccuracy > currentAccuracy)
    return { promote: true, reason: `holdout accuracy ${fmt(candidateAccuracy)} > current ${fmt(currentAccuracy)}` };
  if (candidateAccuracy === currentAccuracy)
    return { promote: false, reason: `tie: holdout accuracy ${fmt(candidateAccuracy)} = current, current kept` };
  return { promote: false, reason: `holdout accuracy ${fmt(candidateAccuracy)} < current ${fmt(currentAccuracy)}` };
}
