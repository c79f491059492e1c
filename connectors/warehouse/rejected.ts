/** Rows a warehouse sink could not write, and where they go: never silently dropped. */
import type { DeadLetter, StreamRecord } from '../../streams/kernel/record.ts';
import type { RejectRecord } from '../../streams/kernel/sink.ts';
import type { Row } from './tables.ts';

export interface RejectedRow<T> {
  record: StreamRecord<T>;
  /** The row as built by toRow (undefined when toRow itself threw). */
  row?: Row;
  /** Why: the warehouse's own error for this row, the validation problem, or the toRow error. */
  reason: string;
}

export interface RejectionHandling<T> {
  /** Receives the rejected rows of a batch, after its good rows are durable. */
  onRejected?: (rejected: RejectedRow<T>[]) => void | Promise<void>;
  /**
   * Dead-letter rejected rows: 'table' inserts them into the warehouse's `dead_letters` table; a function gets
   * DeadLetter objects. Used in addition to onRejected. With neither, inside a pipeline run rejected rows go to the
   * pipeline's dead letters (table, `.dlq` topic and counts); outside one, `write` throws.
   */
  deadLetters?: 'table' | ((letters: DeadLetter[]) => Promise<void>);
  /** Stage name written on dead letters. Default `<warehouse>:<table>`. */
  stage?: string;
}

export function toDeadLetter<T>(rejected: RejectedRow<T>, stage: string, failedAt: number): DeadLetter {
  return {
    stage,
    error: rejected.reason,
    position: rejected.record.position,
    key: rejected.record.key,
    original: rejected.record.raw ?? Buffer.from(rejected.row ? safeJson(rejected.row) : ''),
    eventTime: rejected.record.eventTime,
    failedAt,
  };
}

function safeJson(row: Row): string {
  try {
    return JSON.stringify(row);
  } catch {
    return String(row);
  }
}

/**
 * Hands rejected rows to onRejected and/or the dead-letter writer; with neither configured, to the runtime's
 * `reject` (the pipeline's dead letters); with none of these, throws (the good rows of the batch are already
 * written) so nothing disappears silently.
 */
export async function routeRejected<T>(
  rejected: RejectedRow<T>[],
  handling: RejectionHandling<T>,
  context: {
    table: string;
    stage: string;
    batchSize: number;
    writeDeadLetterTable?: (letters: DeadLetter[]) => Promise<void>;
    reject?: RejectRecord;
  },
): Promise<void> {
  if (rejected.length === 0) return;
  if (!handling.onRejected && !handling.deadLetters && context.reject) {
    for (const r of rejected) context.reject(r.record, r.reason);
    return;
  }
  let handled = false;
  if (handling.onRejected) {
    await handling.onRejected(rejected);
    handled = true;
  }
  if (handling.deadLetters) {
    const now = Date.now();
    const letters = rejected.map((r) => toDeadLetter(r, context.stage, now));
    if (handling.deadLetters === 'table') await context.writeDeadLetterTable!(letters);
    else await handling.deadLetters(letters);
    handled = true;
  }
  if (!handled) {
    const first = rejected[0]!;
    const p = first.record.position;
    throw new Error(
      `${rejected.length} of ${context.batchSize} rows rejected by ${context.table} (the others were written); ` +
        `first at ${p.topic}/${p.partition}@${p.offset}: ${first.reason}. Pass onRejected or deadLetters to ` +
        `dead-letter them instead.`,
    );
  }
}
