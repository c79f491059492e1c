import { describe, expect, it } from 'vitest';
import { EventTimePacer } from './pacing.ts';

describe('event-time pacing', () => {
  it('keeps the original gaps at speed 1 and divides them at higher speeds', () => {
    const original = new EventTimePacer(1, 1_000);
    expect(original.delayMs(50_000, 1_000)).toBe(0); // the first record goes at once
    expect(original.delayMs(51_800, 1_000)).toBe(1_800);
    expect(original.delayMs(51_800, 2_500)).toBe(300);
    const fast = new EventTimePacer(60, 0);
    fast.delayMs(0, 0);
    expect(fast.delayMs(3_600_000, 0)).toBe(60_000); // an hour of events per minute
    expect(fast.delayMs(-5, 0)).toBe(0); // out-of-order records are not held back
  });

  it('refuses a speed that is not positive', () => {
    expect(() => new EventTimePacer(0)).toThrow('speed must be a positive number');
  });
});
