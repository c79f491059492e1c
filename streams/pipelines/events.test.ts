import { describe, expect, it } from 'vitest';
import { eventRow, validateEvent } from './events.ts';

const event = (over: Record<string, unknown>) => ({
  key: 'nyc_taxi',
  timestamp: '2014-07-01 00:00:00',
  value: 10844,
  ...over,
});

describe('events: validation of what the runtime uses', () => {
  it('dead-letters event times it cannot carry and keys that are not valid Unicode, each with its reason', () => {
    const reasons = (over: Record<string, unknown>) => {
      try {
        validateEvent(event(over));
        return 'accepted';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(reasons({ timestamp: 9e18 })).toBe(
      'event "timestamp" 9000000000000000000 is past 2199 (event times must be before 2200-01-01T00:00:00Z)',
    );
    expect(reasons({ timestamp: 2 ** 63 })).toMatch(/^event "timestamp" 9223372036854776000 is past 2199/);
    expect(reasons({ timestamp: -1e308 })).toBe('event "timestamp" -1e+308 is before 1970-01-01T00:00:00Z');
    expect(reasons({ timestamp: 1.5 })).toBe('event "timestamp" 1.5 is not a whole number of milliseconds');
    expect(reasons({ timestamp: '1969-12-31 23:59:59' })).toBe(
      'event "timestamp" -1000 is before 1970-01-01T00:00:00Z',
    );
    expect(reasons({ timestamp: 'yesterday' })).toBe('event "timestamp" is not a date: "yesterday"');
    expect(reasons({ key: 'x\ud800' })).toBe('event key "x\\ud800" is not valid Unicode (a lone UTF-16 surrogate)');
    expect(reasons({ source: '\udfffnab' })).toBe(
      'event "source" "\\udfffnab" is not valid Unicode (a lone UTF-16 surrogate)',
    );
    expect(reasons({ timestamp: 1_404_172_800_000 })).toBe('accepted');
    expect(reasons({ timestamp: '2199-12-31T23:59:59.999Z', key: '😀' })).toBe('accepted');
  });

  it('keeps two readings of one series at one time with different values as two rows; a redelivery stays one', () => {
    const a = validateEvent(event({ timestamp: '2014-03-09 03:00:00', value: 44.612 }));
    const b = validateEvent(event({ timestamp: '2014-03-09 03:00:00', value: 43.578 }));
    expect(eventRow(a).id).not.toBe(eventRow(b).id);
    expect(eventRow(a).id).toBe(eventRow(validateEvent(event({ timestamp: '2014-03-09 03:00:00', value: 44.612 }))).id);
    expect(eventRow(a).id).toBe('unknown/nyc_taxi/1394334000000/44.612');
  });
});
