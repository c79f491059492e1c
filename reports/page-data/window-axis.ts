/**
 * The Drift page's window axis: one equal slot per window shown, in event-time order, shared by the accuracy chart
 * and the drift-test charts so a window sits at the same x in each. A replay over years of postings has long spans
 * without windows (HN 2013–14, then 2026); on a time axis they took most of the width and squeezed the windows that
 * matter into a corner. Here only the windows shown take room, a skipped span is marked on the boundary where it falls
 * (`gap_before`), and an event time (a promotion) lands where it falls inside its window, or on the boundary between
 * two shown windows when it falls in a gap.
 */

export interface AxisWindow {
  window_start: number;
  window_end: number;
}

/**
 * The windows of any of `lists`, once each, by start; `gap_before` when time between it and the previous one is
 * skipped.
 */
export function windowAxis(...lists: readonly (readonly AxisWindow[])[]): (AxisWindow & { gap_before: boolean })[] {
  const byStart = new Map<number, AxisWindow>();
  for (const w of lists.flat())
    if (!byStart.has(w.window_start))
      byStart.set(w.window_start, { window_start: w.window_start, window_end: w.window_end });
  const sorted = [...byStart.values()].sort((a, b) => a.window_start - b.window_start);
  return sorted.map((w, i) => ({ ...w, gap_before: i > 0 && w.window_start > sorted[i - 1]!.window_end }));
}

/** Slot of the window starting at `start` on `axis`, or null when it is not there. */
export function slotOf(axis: readonly AxisWindow[], start: number): number | null {
  const i = axis.findIndex((w) => w.window_start === start);
  return i === -1 ? null : i;
}

/** Position of event time `t` on an axis where the i-th window (sorted by start, not overlapping) spans [i, i + 1). */
export function windowPosition(windows: readonly AxisWindow[], t: number): number {
  for (const [i, w] of windows.entries()) {
    if (t < w.window_start) return i;
    if (t < w.window_end) return i + (t - w.window_start) / (w.window_end - w.window_start);
  }
  return windows.length;
}
