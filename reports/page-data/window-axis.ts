/**
 * The Drift page's window axis: one equal slot per window shown, in event-time order. A replay over years of postings
 * has dozens of windows without labels; on a time axis they took most of the width and squeezed the few labelled
 * windows into a corner. Here only the windows shown take room, and an event time (a promotion) lands where it falls
 * inside its window, or on the boundary between two shown windows when it falls in a gap.
 */

export interface AxisWindow {
  window_start: number;
  window_end: number;
}

/** Position of event time `t` on an axis where the i-th window (sorted by start, not overlapping) spans [i, i + 1). */
export function windowPosition(windows: readonly AxisWindow[], t: number): number {
  for (const [i, w] of windows.entries()) {
    if (t < w.window_start) return i;
    if (t < w.window_end) return i + (t - w.window_start) / (w.window_end - w.window_start);
  }
  return windows.length;
}
