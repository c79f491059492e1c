/** Exponential buckets from 10 µs to about 5 minutes: cheap to record, good enough for p50/p99. */
const BUCKET_FACTOR = 1.25;
const FIRST_BUCKET_MS = 0.01;
const BUCKETS = 80;

export class LatencyHistogram {
  readonly counts = new Array<number>(BUCKETS).fill(0);
  count = 0;
  sum = 0;
  max = 0;

  record(ms: number): void {
    this.recordMany(ms, 1);
  }

  /** `times` observations of the same value (a whole batch with one start time). */
  recordMany(ms: number, times: number): void {
    if (times <= 0) return;
    const i =
      ms <= FIRST_BUCKET_MS
        ? 0
        : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / FIRST_BUCKET_MS) / Math.log(BUCKET_FACTOR)));
    this.counts[i]! += times;
    this.count += times;
    this.sum += ms * times;
    if (ms > this.max) this.max = ms;
  }

  /** Upper bound (ms) of bucket `i`; the last bucket also holds everything larger. */
  static upperBoundMs(i: number): number {
    return FIRST_BUCKET_MS * BUCKET_FACTOR ** i;
  }

  /** Upper bound of the bucket holding the p-th percentile (0..100), capped at the observed maximum. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, FIRST_BUCKET_MS * BUCKET_FACTOR ** i);
    }
    return this.max;
  }
}

export class StageMetrics {
  recordsIn = 0;
  recordsOut = 0;
  batches = 0;
  deadLetters = 0;
  /** Records sent to the stage's `late` side output: they arrived after every window they belong to had closed. */
  late = 0;
  readonly deadLettersByReason = new Map<string, number>();
  readonly batchLatency = new LatencyHistogram();
  queueDepth = () => 0;
  maxQueueDepth = () => 0;

  constructor(readonly stage: string) {}

  countDeadLetter(reason: string): void {
    this.deadLetters += 1;
    this.deadLettersByReason.set(reason, (this.deadLettersByReason.get(reason) ?? 0) + 1);
  }

  snapshot() {
    return {
      stage: this.stage,
      recordsIn: this.recordsIn,
      recordsOut: this.recordsOut,
      batches: this.batches,
      deadLetters: this.deadLetters,
      batchLatencyP50Ms: this.batchLatency.percentile(50),
      batchLatencyP99Ms: this.batchLatency.percentile(99),
      batchLatencyMaxMs: this.batchLatency.max,
      queueDepth: this.queueDepth(),
      maxQueueDepth: this.maxQueueDepth(),
      late: this.late,
    };
  }
}

export type StageSnapshot = ReturnType<StageMetrics['snapshot']>;

export function formatMetricsTable(rows: StageSnapshot[]): string {
  const header = ['stage', 'in', 'out', 'dead', 'batches', 'p50 ms', 'p99 ms', 'max queue'];
  const body = rows.map((r) => [
    r.stage,
    String(r.recordsIn),
    String(r.recordsOut),
    String(r.deadLetters),
    String(r.batches),
    r.batchLatencyP50Ms.toFixed(2),
    r.batchLatencyP99Ms.toFixed(2),
    String(r.maxQueueDepth),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}
