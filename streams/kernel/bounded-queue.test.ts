import { describe, expect, it } from 'vitest';
import { BoundedQueue } from './bounded-queue.ts';

describe('BoundedQueue.popWithin', () => {
  it('returns what is queued at once, even when the wait is over', async () => {
    const q = new BoundedQueue<string>(2);
    q.pushNow('a');
    expect(await q.popWithin(0)).toBe('a');
    expect(await q.popWithin(-5)).toBeUndefined();
  });

  it('hands over an item pushed while it waits, and gives up with undefined when none comes', async () => {
    const q = new BoundedQueue<string>(2);
    const waiting = q.popWithin(60_000);
    await q.push('b');
    expect(await waiting).toBe('b');
    expect(await q.popWithin(1)).toBeUndefined();
  });

  it('leaves the queue usable after a wait ran out: the next pop is not refused as a second consumer', async () => {
    const q = new BoundedQueue<string>(1);
    expect(await q.popWithin(1)).toBeUndefined();
    const next = q.pop();
    q.pushNow('c');
    expect(await next).toBe('c');
    expect(q.depth).toBe(0);
  });
});
