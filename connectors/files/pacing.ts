/**
 * Replays timestamped records at their original pace (speed 1), scaled (speed 60 = an hour per minute), or as fast
 * as possible (no speed). Returns how long to wait before sending a record with event time `eventTime`.
 */
export class EventTimePacer {
  private firstEventTime: number | undefined;
  private readonly startedAt: number;

  constructor(
    private readonly speed: number,
    now = Date.now(),
  ) {
    if (!(speed > 0)) throw new Error('speed must be a positive number (1 = original pace)');
    this.startedAt = now;
  }

  delayMs(eventTime: number, now = Date.now()): number {
    this.firstEventTime ??= eventTime;
    const due = this.startedAt + (eventTime - this.firstEventTime) / this.speed;
    return Math.max(0, due - now);
  }
}
