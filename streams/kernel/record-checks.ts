/**
 * What the runtime needs of the event time and key it carries for every record. Windows, watermarks, Kafka
 * timestamps, ids and dead letters all use them, so a record that breaks these rules is dead-lettered where its
 * time or key is set, never carried on to fail a sink, a transport or the dead-letter writer itself.
 */
import { isWellFormed } from './well-formed-text.ts';

/**
 * Event times run from 1970-01-01 (Kafka timestamps cannot be negative: -1 means "none") to 2200-01-01, far past
 * any real or simulated data but small enough that window ends, lateness and `toISOString()` (which throws past
 * year 275760) never overflow, and well inside the Int64 milliseconds of both warehouses.
 */
export const MIN_EVENT_TIME = 0;
export const MAX_EVENT_TIME = Date.UTC(2200, 0, 1);

/** Why an event time cannot be carried (not a number, not whole milliseconds, out of range), or undefined. */
export function eventTimeProblem(ms: number): string | undefined {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return `${String(ms)} is not a time`;
  if (!Number.isInteger(ms)) return `${ms} is not a whole number of milliseconds`;
  if (ms < MIN_EVENT_TIME) return `${ms} is before 1970-01-01T00:00:00Z`;
  if (ms >= MAX_EVENT_TIME) return `${ms} is past 2199 (event times must be before 2200-01-01T00:00:00Z)`;
  return undefined;
}

/** Longest key carried: keys go into ids, Kafka keys and dead-letter rows. */
export const MAX_KEY_CHARS = 1_024;

/** Why a record key cannot be carried (lone surrogates have no UTF-8 form; very long keys), or undefined. */
export function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string') return `key must be a string, got ${typeof key}`;
  if (!isWellFormed(key))
    return `key ${JSON.stringify(key.slice(0, 80))} is not valid Unicode (a lone UTF-16 surrogate)`;
  if (key.length > MAX_KEY_CHARS) return `key is ${key.length} characters, above the ${MAX_KEY_CHARS}-character limit`;
  return undefined;
}
