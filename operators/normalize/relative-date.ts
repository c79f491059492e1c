const UNIT_MS: Record<string, number> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  // LinkedIn's coarse buckets; Bright Data's own job_posted_date uses 30-day months ("1 month ago" on 12-22 → 11-22)
  month: 30 * 86_400_000,
  year: 365 * 86_400_000,
};

/**
 * Resolves LinkedIn-style relative times ("just now", "3 days ago", "1 week ago", "2 months ago", "an hour ago",
 * "30+ days ago", "yesterday") against a reference instant (epoch ms). Returns null for text it does not recognise.
 */
export function resolveRelativeDate(text: string, reference: number): number | null {
  const t = text.trim().toLowerCase();
  if (t === 'just now' || t === 'now' || t === 'today' || t === 'moments ago') return reference;
  if (t === 'yesterday') return reference - UNIT_MS.day!;
  const m = /^(?:(\d+)\+?|an?|one)\s+(second|sec|minute|min|hour|hr|day|week|wk|month|mo|year|yr)s?\s+ago$/.exec(t);
  if (!m) return null;
  const n = m[1] === undefined ? 1 : Number(m[1]);
  const unit = { sec: 'second', min: 'minute', hr: 'hour', wk: 'week', mo: 'month', yr: 'year' }[m[2]!] ?? m[2]!;
  return reference - n * UNIT_MS[unit]!;
}
