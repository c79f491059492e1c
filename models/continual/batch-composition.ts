/**
 * One epoch's mini-batches with a minimum share of human-labelled examples in every batch, so pseudo-labels (Model A's
 * guesses) can never make up a whole batch. Each batch gets `humanPerBatch` human examples — at least
 * ceil(minHumanShare × batchSize), more when humans are a larger share of the data — and the rest pseudo ones.
 *
 *   - every pseudo example appears exactly once per epoch (none with minHumanShare = 1: batches are human only);
 *   - every human example appears at least once; when they are scarce they are oversampled: drawn from successive
 *     seeded shuffles of the human examples until every batch has its share;
 *   - batches after the pseudo examples run out hold human examples only.
 *
 * Seeded: the same inputs and generator give the same batches.
 */
import { shuffleInPlace } from '../seeded-random.ts';

export interface BatchPlan {
  /** Example indices per batch. */
  batches: number[][];
  humanPerBatch: number;
  /** Human draws this epoch (≥ human.length; more means oversampled). */
  humanDraws: number;
}

export function composeBatches(
  pseudo: readonly number[],
  human: readonly number[],
  batchSize: number,
  minHumanShare: number,
  random: () => number,
): BatchPlan {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  if (!(minHumanShare >= 0 && minHumanShare <= 1))
    throw new Error(`minHumanShare must be in [0, 1], got ${minHumanShare}`);
  const total = pseudo.length + human.length;
  if (total === 0) return { batches: [], humanPerBatch: 0, humanDraws: 0 };
  if (human.length === 0) {
    if (minHumanShare > 0) throw new Error(`no human-labelled examples: every batch needs a share of ${minHumanShare}`);
    const order = shuffleInPlace([...pseudo], random);
    const batches: number[][] = [];
    for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
    return { batches, humanPerBatch: 0, humanDraws: 0 };
  }
  const minimum = Math.ceil(minHumanShare * batchSize);
  const natural = Math.round((batchSize * human.length) / total);
  // Leave a pseudo slot unless the share demands whole human batches, so no pseudo example is starved by rounding.
  const cap = pseudo.length > 0 && minimum < batchSize ? batchSize - 1 : batchSize;
  const humanPerBatch = Math.min(cap, Math.max(1, minimum, natural));
  const pseudoPerBatch = batchSize - humanPerBatch;
  const count = Math.max(
    pseudoPerBatch > 0 ? Math.ceil(pseudo.length / pseudoPerBatch) : 0,
    Math.ceil(human.length / humanPerBatch),
  );

  const pseudoOrder = shuffleInPlace([...pseudo], random);
  let humanOrder: number[] = [];
  const nextHuman = () => {
    if (humanOrder.length === 0) humanOrder = shuffleInPlace([...human], random);
    return humanOrder.pop()!;
  };
  const batches: number[][] = [];
  let humanDraws = 0;
  for (let b = 0; b < count; b++) {
    const batch = pseudoOrder.slice(b * pseudoPerBatch, (b + 1) * pseudoPerBatch);
    for (let h = 0; h < humanPerBatch; h++) batch.push(nextHuman());
    humanDraws += humanPerBatch;
    batches.push(shuffleInPlace(batch, random));
  }
  return { batches, humanPerBatch, humanDraws };
}
