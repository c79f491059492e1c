import type { LiveRun } from '../streams/kernel/live-run.ts';

/** What a long command has done so far; lag and ETA are shown only where known. */
export interface ProgressFigures {
  records: number;
  deadLetters?: number;
  /** Records behind the log end (consumer lag), summed over partitions. */
  lag?: number;
  /** Records expected in all, for an ETA. */
  total?: number;
}

export interface ProgressOptions {
  out?: NodeJS.WriteStream;
  /** Default: whether `out` is a terminal. */
  tty?: boolean;
  /**
   * Not a terminal: a plain line at most this often. Default 10 s (commands pass DRIFTLINE_PROGRESS_SECONDS,
   * config/settings.ts).
   */
  plainEveryMs?: number;
}

const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

/** `events · 12.3 s · 12,345 records (1,004/s) · 3 dead letters · lag 120 · ETA 8 s` */
export function progressLine(label: string, elapsedMs: number, f: ProgressFigures): string {
  const rate = f.records / Math.max(elapsedMs / 1000, 1e-3);
  const parts = [label, `${(elapsedMs / 1000).toFixed(1)} s`, `${thousands(f.records)} records (${thousands(rate)}/s)`];
  if (f.deadLetters) parts.push(`${thousands(f.deadLetters)} dead letters`);
  if (f.lag !== undefined) parts.push(`lag ${thousands(f.lag)}`);
  if (f.total !== undefined && rate > 0 && f.total > f.records) {
    parts.push(`ETA ${Math.ceil((f.total - f.records) / rate)} s`);
  }
  return parts.join(' · ');
}

/**
 * Progress of `run`, `replay` and `produce` on stderr: on a terminal one line redrawn in place; otherwise (a pipe,
 * CI, a log file) a plain line at most every 10 s. No dependency: a timer and `\r`. Kept apart from the demo's
 * step display (cli/demo/progress.ts), which counts steps rather than one command's records.
 */
export class CommandProgress {
  private readonly out: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly plainEveryMs: number;
  private readonly started = Date.now();
  private timer?: NodeJS.Timeout;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly read: () => ProgressFigures,
    options: ProgressOptions = {},
  ) {
    this.out = options.out ?? process.stderr;
    this.tty = options.tty ?? Boolean(this.out.isTTY);
    this.plainEveryMs = options.plainEveryMs ?? 10_000;
    this.timer = setInterval(() => this.show(), this.tty ? 250 : this.plainEveryMs);
    this.timer.unref();
  }

  /** The line as it stands now (also for a summary on Ctrl-C). */
  line(): string {
    return progressLine(this.label, Date.now() - this.started, this.read());
  }

  private show(): void {
    if (this.tty) {
      this.out.write(`\r\x1b[K${this.line()}`);
      this.drawn = true;
    } else this.out.write(`${this.line()}\n`);
  }

  /** Stops the display and clears the terminal line, so the command's own summary follows cleanly. */
  stop(): void {
    clearInterval(this.timer);
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}

/** Figures of a running pipeline, read from its live metrics (the source's records, dead letters, lag). */
export function pipelineFigures(live: LiveRun): ProgressFigures {
  const source = live.nodes.find((n) => n.kind === 'source');
  const deadLetters = live.nodes[live.nodes.length - 1]?.metrics.recordsIn ?? 0;
  const lags = live.consumerLag();
  return {
    records: source?.metrics.recordsOut ?? 0,
    deadLetters,
    lag: lags.length > 0 ? lags.reduce((sum, p) => sum + p.lag, 0) : undefined,
  };
}

/** A pipeline's progress, started once its live figures exist (`onStart` of runPipeline). */
export function pipelineProgress(label: string, options: ProgressOptions = {}) {
  let progress: CommandProgress | undefined;
  return {
    onStart: (live: LiveRun) => {
      progress = new CommandProgress(label, () => pipelineFigures(live), options);
    },
    line: () => progress?.line(),
    stop: () => progress?.stop(),
  };
}
