import { parseEventTime } from '../files/event-files.ts';

/** The event times a replay covers: from ≤ timestamp < to; an absent bound is open. Epoch milliseconds. */
export interface TimeRange {
  from?: number;
  to?: number;
}

/** An ISO time (zone-less times are UTC, as for NAB timestamps) or epoch milliseconds. */
export function parseTime(text: string, what: string): number {
  const t = /^-?\d+$/.test(text.trim()) ? Number(text) : parseEventTime(text);
  if (!Number.isFinite(t)) throw new Error(`${what} ${JSON.stringify(text)} is not an ISO time or epoch milliseconds`);
  return t;
}

export function timeRange(from?: string, to?: string): TimeRange {
  const range: TimeRange = {
    from: from === undefined ? undefined : parseTime(from, '--from'),
    to: to === undefined ? undefined : parseTime(to, '--to'),
  };
  if (range.from !== undefined && range.to !== undefined && range.to <= range.from)
    throw new Error('--to must be after --from');
  return range;
}

export const inRange = (range: TimeRange, timestamp: number) =>
  (range.from === undefined || timestamp >= range.from) && (range.to === undefined || timestamp < range.to);

export const describeRange = (range: TimeRange) =>
  range.from === undefined && range.to === undefined
    ? 'all event times'
    : `event times ${range.from === undefined ? '…' : new Date(range.from).toISOString()} ≤ t ` +
      `< ${range.to === undefined ? '…' : new Date(range.to).toISOString()}`;
