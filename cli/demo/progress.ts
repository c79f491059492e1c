/**
 * The demo's progress display: step n/N with its name, the elapsed time, and for long steps a record count and
 * rate. On a terminal one line updates in place (other output clears it first and it is redrawn after); elsewhere
 * (CI, tests, a pipe) plain lines: one when a step starts, one every `heartbeatMs` while it counts records, one when
 * it ends. No dependency: a timer and `\r`.
 */

export interface StepTiming {
  name: string;
  ms: number;
  /** What the step did, in a few words ("trained postings-a@v1", "reused …"). */
  detail: string;
}

export interface ProgressOptions {
  out?: NodeJS.WriteStream;
  /** Default: whether `out` is a terminal. */
  tty?: boolean;
  /** Plain-line mode: a line at most this often while a step counts records. Default 15 s. */
  heartbeatMs?: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

/** `[3/8] replay postings · 12.3 s · 12,345 records (1,004/s)`, or with the step's latest note instead of records. */
export function statusLine(s: {
  index: number;
  total: number;
  name: string;
  elapsedMs: number;
  records?: number;
  note?: string;
}): string {
  const head = `[${s.index}/${s.total}] ${s.name} · ${seconds(s.elapsedMs)}`;
  if (s.records !== undefined)
    return `${head} · ${thousands(s.records)} records (${thousands(s.records / Math.max(s.elapsedMs / 1000, 1e-3))}/s)`;
  return s.note === undefined ? head : `${head} · ${s.note}`;
}

export class Progress {
  readonly timings: StepTiming[] = [];
  private readonly out: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly heartbeatMs: number;
  private index = 0;
  private current?: { name: string; started: number; records?: number; note?: string; lastBeat: number };
  private timer?: NodeJS.Timeout;
  private shown = false;
  private readonly restore: (() => void)[] = [];
  private write: (text: string) => void;

  constructor(
    readonly total: number,
    options: ProgressOptions = {},
  ) {
    this.out = options.out ?? process.stderr;
    this.tty = options.tty ?? Boolean(this.out.isTTY);
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.write = (text) => void this.out.write(text);
    if (this.tty) this.interceptOtherOutput();
  }

  /** Starts the next step; the previous one must be done. */
  start(name: string): void {
    this.index++;
    const now = Date.now();
    this.current = { name, started: now, lastBeat: now };
    if (this.tty) {
      this.timer = setInterval(() => this.draw(), 200);
      this.timer.unref();
      this.draw();
    } else this.write(`[${this.index}/${this.total}] ${name}…\n`);
  }

  /** Records the step has handled so far (a running total). */
  records(count: number): void {
    if (!this.current) return;
    this.current.records = count;
    this.heartbeat();
  }

  /** What the step is doing now, for steps that do not count records (shown after the elapsed time). */
  note(text: string): void {
    if (!this.current) return;
    this.current.note = text;
    this.heartbeat();
  }

  /** Ends the current step with what it did; returns its timing. */
  done(detail: string): StepTiming {
    const step = this.current!;
    const timing = { name: step.name, ms: Date.now() - step.started, detail };
    this.timings.push(timing);
    clearInterval(this.timer);
    this.clear();
    this.write(`[${this.index}/${this.total}] ${step.name}: ${detail} (${seconds(timing.ms)})\n`);
    this.current = undefined;
    return timing;
  }

  /** Stops redrawing and gives the streams back. */
  close(): void {
    clearInterval(this.timer);
    this.clear();
    for (const undo of this.restore.splice(0)) undo();
  }

  /** Plain-line mode: the status as a line, at most every `heartbeatMs`. */
  private heartbeat(): void {
    const now = Date.now();
    if (this.tty || now - this.current!.lastBeat < this.heartbeatMs) return;
    this.current!.lastBeat = now;
    this.write(`${this.line(now)}\n`);
  }

  private line(now: number): string {
    const c = this.current!;
    return statusLine({
      index: this.index,
      total: this.total,
      name: c.name,
      elapsedMs: now - c.started,
      records: c.records,
      note: c.note,
    });
  }

  private draw(): void {
    if (!this.current) return;
    const width = this.out.columns || 100;
    this.write(`\r\x1b[2K${this.line(Date.now()).slice(0, width - 1)}`);
    this.shown = true;
  }

  private clear(): void {
    if (this.tty && this.shown) this.write('\r\x1b[2K');
    this.shown = false;
  }

  /** On a terminal, anything else written to stdout or stderr first clears the status line (redrawn by the timer). */
  private interceptOtherOutput(): void {
    const own = this.out.write.bind(this.out);
    this.write = (text) => void own(text);
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write;
      stream.write = ((...args: Parameters<typeof original>) => {
        this.clear();
        return original.apply(stream, args);
      }) as typeof original;
      this.restore.push(() => (stream.write = original));
    }
  }
}
