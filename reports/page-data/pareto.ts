/**
 * The Pareto frontier of a set of options: an option is on it when no other option is at least as good on every
 * objective and strictly better on one. Ties (identical on every objective) are all kept.
 */
export interface Objective<T> {
  value: (item: T) => number | null;
  goal: 'min' | 'max';
}

/** For each item, whether it is on the frontier. Items missing a value on any objective are never on it. */
export function paretoFrontier<T>(items: readonly T[], objectives: readonly Objective<T>[]): boolean[] {
  if (objectives.length === 0) throw new Error('paretoFrontier needs at least one objective');
  // Oriented so that smaller is better on every objective.
  const points = items.map((item) => {
    const values = objectives.map((o) => o.value(item));
    return values.some((v) => v === null || !Number.isFinite(v))
      ? null
      : values.map((v, i) => (objectives[i]!.goal === 'min' ? v! : -v!));
  });
  const dominates = (a: number[], b: number[]) => a.every((x, i) => x <= b[i]!) && a.some((x, i) => x < b[i]!);
  return points.map((p, i) => p !== null && !points.some((q, j) => j !== i && q !== null && dominates(q, p)));
}
