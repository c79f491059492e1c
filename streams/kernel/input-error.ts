import type { StreamRecord } from './record.ts';

/**
 * A reader that cannot turn part of a file into a proper record (a CSV row with a stray quote or the wrong number
 * of fields) still publishes it, as its original bytes with this header saying why. The pipeline's decode stage then
 * dead-letters it with that reason, so bad input ends up in the same dead letters, counts and `.dlq` topic whether
 * it came through `produce` and a topic or through `run --input`, and the rest of the file goes on.
 */
export const INPUT_ERROR_HEADER = 'driftline.input_error';

/** The reason a reader flagged this record with, if any. */
export const inputErrorOf = (record: Pick<StreamRecord<unknown>, 'headers'>): string | undefined =>
  record.headers?.[INPUT_ERROR_HEADER];
