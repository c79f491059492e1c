import type { StreamRecord } from '../../streams/kernel/record.ts';
import type { Prediction } from '../../schemas/prediction.ts';

/** A confident prediction of a window, waiting for the window's decision. */
export interface Candidate<T> {
  record: StreamRecord<T>;
  prediction: Prediction;
}

/** What a window's class cap let through. */
export interface Selection<T> {
  accepted: Candidate<T>[];
  acceptedPerClass: number[];
  rejectedClassCap: number;
}

/**
 * The class cap: class c takes at most ceil(prior[c] × confident predictions) examples, its most confident ones.
 * Labels outside the prior's classes cannot be capped sensibly: they are refused.
 */
export function selectByClassPrior<T>(
  candidates: readonly Candidate<T>[],
  classPrior: readonly number[],
): Selection<T> {
  const accepted: Candidate<T>[] = [];
  const acceptedPerClass = classPrior.map(() => 0);
  let rejectedClassCap = 0;
  for (let c = 0; c < classPrior.length; c++) {
    const ofClass = candidates.filter((x) => x.prediction.label === c);
    // Most confident first; ties by record id, so the choice is the same on every replay.
    ofClass.sort(
      (a, b) =>
        b.prediction.confidence - a.prediction.confidence || (a.prediction.record_id < b.prediction.record_id ? -1 : 1),
    );
    const cap = Math.ceil(classPrior[c]! * candidates.length);
    accepted.push(...ofClass.slice(0, cap));
    acceptedPerClass[c] = Math.min(cap, ofClass.length);
    rejectedClassCap += Math.max(0, ofClass.length - cap);
  }
  rejectedClassCap += candidates.filter(
    (x) => x.prediction.label < 0 || x.prediction.label >= classPrior.length,
  ).length;
  return { accepted, acceptedPerClass, rejectedClassCap };
}
