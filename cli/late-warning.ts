import type { StageSnapshot } from '../streams/kernel/metrics.ts';

/**
 * The warning a run or replay prints when windows received records after they had closed: how many, at which
 * stages, and what to change. Late records are in the window's late output, never in a window, so a silent count
 * would hide a wrong result. Null when there were none.
 */
export function lateWarning(pipeline: string, metrics: readonly StageSnapshot[]): string | null {
  const late = metrics.filter((m) => m.late > 0);
  if (late.length === 0) return null;
  const total = late.reduce((sum, m) => sum + m.late, 0);
  const read = metrics[0]?.recordsOut ?? 0;
  const share = read > 0 ? ` (${((100 * total) / read).toFixed(1)} % of ${read.toLocaleString('en-US')} read)` : '';
  const stages = late.map((m) => `${m.late.toLocaleString('en-US')} at ${m.stage}`).join(', ');
  return (
    `${pipeline}: warning: ${total.toLocaleString('en-US')} records arrived after their window had ` +
    `closed${share}: ${stages}. ` +
    'They are in the late output (e.g. topic events.late) and in no window. To keep them: raise ' +
    'allowedLatenessMinutes ' +
    '(--config), or send the input in event-time order (`produce <dir>`, `run --input <dir>` and replay merge the ' +
    'files ' +
    'of a folder by event time; records out of order inside one file stay late). Counted in pipeline_runs.late_records.'
  );
}
