/**
 * The `dead_letters` row for a dead letter. Writing it must never fail, whatever the record held, or the bad record
 * blocks its partition for good (each restart re-reads it, fails again and commits nothing). So every column is
 * made to fit both warehouses: text well-formed (no lone surrogates, which ClickHouse refuses) and bounded, NULs
 * shown as `\0` in reasons, the original bytes always base64, and an event time that is not an integer the Int64
 * column holds exactly stored as 0 with the original kept beside it.
 */
import { type DeadLetter, MAX_REASON_CHARS } from '../../streams/kernel/record.ts';
import { safeText, toWellFormed } from '../../streams/kernel/well-formed-text.ts';
import { compositeId, type Row } from './tables.ts';

// The reason's bound is the dead letter's own (record.ts): the `.dlq` topic bounds it the same way.
export { MAX_REASON_CHARS };
const MAX_KEY_CHARS = 1_024;
const MAX_NAME_CHARS = 1_000;

const int64 = (v: number, fallback: number) => (Number.isSafeInteger(v) ? v : fallback);
const int32 = (v: number) => (Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 ? v : -1);

export function deadLetterRow(letter: Omit<DeadLetter, 'original'> & { original: Buffer }): Row {
  const { topic, partition, offset } = letter.position;
  const failedAt = int64(letter.failedAt, Date.now());
  const storedTime = Number.isSafeInteger(letter.eventTime);
  return {
    id: toWellFormed(compositeId(topic, partition, offset, letter.stage)),
    version: Math.max(failedAt, 0),
    stage: safeText(letter.stage, MAX_NAME_CHARS),
    error: safeText(letter.error, MAX_REASON_CHARS),
    topic: safeText(topic, MAX_NAME_CHARS),
    partition: int32(partition),
    offset: int64(offset, -1),
    key: letter.key === null ? null : safeText(letter.key, MAX_KEY_CHARS),
    original: letter.original.toString('base64'),
    event_time: storedTime ? letter.eventTime : 0,
    failed_at: failedAt,
    event_time_original: storedTime ? null : String(letter.eventTime),
  };
}
