import type { StageMetrics } from './metrics.ts';
import type { DeadLetter, StreamRecord } from './record.ts';
import { type Batch, MAIN, type Port, type StageOutput, reasonOf } from './stage.ts';

/** Collects what a stage emits during one call, so the runtime can forward it with backpressure afterwards. */
export class Collector implements StageOutput<unknown> {
  readonly emitted: Array<{ batch: Batch<unknown>; port: Port }> = [];
  readonly deadLetters: DeadLetter[] = [];
  constructor(
    private readonly stage: string,
    private readonly metrics: StageMetrics,
  ) {}

  emit(batch: Batch<unknown>, port: Port = MAIN): void {
    this.emitted.push({ batch, port });
  }

  emitSide(port: Port, batch: Batch<unknown>): void {
    // 'late': the window operators' side output (operators/window LATE_PORT), counted so runs can report it.
    if (port === 'late') this.metrics.late += batch.records.length;
    this.emitted.push({ batch, port });
  }

  deadLetter(record: StreamRecord<unknown>, error: unknown): void {
    const reason = reasonOf(error);
    this.metrics.countDeadLetter(reason);
    this.deadLetters.push(deadLetterOf(this.stage, record, reason));
  }
}

/** A record as a dead letter of `stage`: its original bytes (or its value as JSON when it has none) and position. */
export function deadLetterOf(stage: string, record: StreamRecord<unknown>, reason: string): DeadLetter {
  return {
    stage,
    error: reason,
    position: record.position,
    key: record.key,
    original: record.raw ?? Buffer.from(safeJson(record.value)),
    eventTime: record.eventTime,
    failedAt: Date.now(),
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
