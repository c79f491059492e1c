import { describe, expect, it } from 'vitest';
import { StreamWatermark } from './stream-watermark.ts';

const at = (partition: number, eventTime: number) => ({ position: { topic: 't', partition, offset: 0 }, eventTime });

describe('StreamWatermark', () => {
  it('follows the slowest partition, minus the lateness, and never goes back', () => {
    const clock = new StreamWatermark(5);
    expect(clock.value).toBe(-Infinity);
    expect(clock.observe(at(0, 100))).toBe(95);
    expect(clock.observe(at(1, 20))).toBe(95); // a new, slower partition cannot move it backwards
    expect(clock.observe(at(0, 300))).toBe(95);
    expect(clock.observe(at(1, 200))).toBe(195);
    expect(clock.observe(at(1, 400))).toBe(295);
  });

  it('never passes a record of an ordered partition, whatever the interleaving, once every partition was seen', () => {
    const p0 = [10, 20, 30, 40, 50, 60].map((t) => at(0, t));
    const p1 = [12, 14, 16, 58, 59].map((t) => at(1, t));
    for (const order of [
      [p0[0], p1[0], ...p0.slice(1), ...p1.slice(1)],
      [p0[0], ...p1, ...p0.slice(1)],
      [p0[0], p1[0], p1[1], p0[1], p1[2], p0[2], p1[3], p0[3], p1[4], p0[4], p0[5]],
    ]) {
      const clock = new StreamWatermark();
      const seen = new Set<number>();
      for (const r of order) {
        // Before a partition's first record the clock cannot know it exists: only the first two may run ahead.
        if (seen.size === 2) expect(r!.eventTime).toBeGreaterThanOrEqual(clock.value); // not late
        seen.add(r!.position.partition);
        clock.observe(r!);
      }
      expect(clock.value).toBe(59);
    }
  });

  it('stops waiting for partitions that went quiet, and can be advanced after a forced close', () => {
    const clock = new StreamWatermark();
    clock.observe(at(1, 10), 0);
    clock.observe(at(0, 100), 0);
    clock.observe(at(0, 500), 9_000);
    expect(clock.value).toBe(10);
    clock.forgetIdle(10_000, 5_000);
    expect(clock.value).toBe(500);
    clock.advanceTo(1_000);
    expect(clock.observe(at(0, 600), 11_000)).toBe(1_000);
  });
});
