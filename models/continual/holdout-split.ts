/**
 * The human-labelled holdout: a record is held out when the seeded hash of its id falls below `fraction`. The split
 * depends on the id alone — not on arrival order, not on how many labels came before — so a record stays on its side
 * across restarts and replays, and a late or corrected label lands where the earlier one did. Held-out records are
 * never trained on, whatever labels them (their pseudo-labels are dropped too: training on A's label for a holdout
 * posting would leak the holdout's text into B).
 */
import { createHash } from 'node:crypto';

export interface HoldoutSpec {
  /** Share of record ids held out. Default 0.25. */
  fraction: number;
  seed: number;
}

export const DEFAULT_HOLDOUT: HoldoutSpec = { fraction: 0.25, seed: 2026 };

export function isHeldOut(recordId: string, spec: HoldoutSpec): boolean {
  const digest = createHash('sha256').update(`${spec.seed}:${recordId}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32 < spec.fraction;
}
