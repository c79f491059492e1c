/**
 * Environment values as typed settings: each parser names the variable and what it must be when the value is wrong,
 * and returns undefined when the variable is unset or empty (the setting's default then applies).
 */

/** A TCP port 0..65535 (0: any free port). */
export function portOrUndefined(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port 0-65535, got "${value}"`);
  return n;
}

export function positiveMsOrUndefined(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!(n > 0)) throw new Error(`${name} must be a positive number of milliseconds, got "${value}"`);
  return n;
}

export function nonNegativeMsOrUndefined(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!(n >= 0) || !Number.isFinite(n))
    throw new Error(`${name} must be a number of milliseconds (0 or more), got "${value}"`);
  return n;
}

/** Seconds (0 or more), as milliseconds. */
export function secondsAsMs(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!(n >= 0) || !Number.isFinite(n))
    throw new Error(`${name} must be a number of seconds (0 or more), got "${value}"`);
  return n * 1000;
}

/** Positive seconds, as milliseconds. */
export function positiveSecondsAsMs(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${name} must be a positive number of seconds, got "${value}"`);
  return n * 1000;
}

/** A comma-separated list, trimmed, without empty entries. */
export const listOf = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
