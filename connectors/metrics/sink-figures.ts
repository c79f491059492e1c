import type { Row } from '../warehouse/tables.ts';

/** A model version counts as in use while it has written a prediction within this long. */
export const IN_USE_MS = 60_000;

/** Dead-letter-like text can be anything: label values are cut to this length. */
const MAX_LABEL_CHARS = 80;

const text = (value: unknown) => String(value ?? '').slice(0, MAX_LABEL_CHARS);

/**
 * What a run's warehouse sinks have written, tallied from the rows themselves: rows, rejections and insert errors
 * per table, and the ML figures those rows carry (predictions per model version, drift alerts by kind, the
 * pseudo-label accept rate). Counting written rows needs no hook in any operator. A redelivered row counts again.
 */
export class SinkFigures {
  readonly rows = new Map<string, number>();
  readonly rejected = new Map<string, number>();
  readonly insertErrors = new Map<string, number>();
  /** `model\0version` → predictions written and when the last one was. */
  readonly predictions = new Map<string, { model: string; version: string; count: number; lastAt: number }>();
  /** `kind\0severity` → alerts written. */
  readonly driftAlerts = new Map<string, { kind: string; severity: string; count: number }>();
  /** accept_rate of the latest pseudo-label window written (by window start); null before the first. */
  pseudoLabelAcceptRate: { windowStart: number; rate: number } | null = null;

  /** A sink stored `count` rows in `table`; `rows` are their contents for the tables read (observed-warehouse.ts). */
  written(table: string, count: number, rows: readonly Row[] = [], now = Date.now()): void {
    add(this.rows, table, count);
    if (table === 'predictions') for (const row of rows) this.prediction(row, now);
    else if (table === 'drift_alerts') for (const row of rows) this.driftAlert(row);
    else if (table === 'pseudo_label_windows') for (const row of rows) this.pseudoLabelWindow(row);
  }

  rejectedRows(table: string, count: number): void {
    add(this.rejected, table, count);
  }

  insertError(table: string): void {
    add(this.insertErrors, table, 1);
  }

  /** Model versions that wrote a prediction within IN_USE_MS of `now`. */
  versionsInUse(now = Date.now()): { model: string; version: string }[] {
    return [...this.predictions.values()].filter((p) => now - p.lastAt <= IN_USE_MS);
  }

  private prediction(row: Row, now: number): void {
    const model = text(row.model_id);
    const version = text(row.model_version);
    const key = `${model}\u0000${version}`;
    const entry = this.predictions.get(key) ?? { model, version, count: 0, lastAt: now };
    entry.count += 1;
    entry.lastAt = now;
    this.predictions.set(key, entry);
  }

  private driftAlert(row: Row): void {
    const kind = text(row.kind);
    const severity = text(row.severity);
    const key = `${kind}\u0000${severity}`;
    const entry = this.driftAlerts.get(key) ?? { kind, severity, count: 0 };
    entry.count += 1;
    this.driftAlerts.set(key, entry);
  }

  private pseudoLabelWindow(row: Row): void {
    const windowStart = Number(row.window_start);
    const rate = Number(row.accept_rate);
    if (!Number.isFinite(rate)) return;
    if (this.pseudoLabelAcceptRate === null || windowStart >= this.pseudoLabelAcceptRate.windowStart) {
      this.pseudoLabelAcceptRate = { windowStart, rate };
    }
  }
}

function add(map: Map<string, number>, key: string, n: number): void {
  if (n > 0) map.set(key, (map.get(key) ?? 0) + n);
}
