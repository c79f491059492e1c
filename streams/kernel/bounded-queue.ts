/**
 * A FIFO with a fixed capacity between two stages. `push` waits while the queue is full, which is how a slow
 * sink slows the source down and keeps memory bounded.
 */
export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private readonly waitingPushers: Array<() => void> = [];
  private waitingPopper: ((item: T) => void) | null = null;
  maxDepth = 0;

  constructor(readonly capacity: number) {
    if (capacity < 1) throw new Error('queue capacity must be at least 1');
  }

  get depth(): number {
    return this.items.length - this.head;
  }

  async push(item: T): Promise<void> {
    while (this.depth >= this.capacity) await new Promise<void>((resolve) => this.waitingPushers.push(resolve));
    this.pushNow(item);
  }

  /** Push ignoring capacity: for small control messages that must never deadlock (revocations). */
  pushNow(item: T): void {
    if (this.waitingPopper) {
      const popper = this.waitingPopper;
      this.waitingPopper = null;
      popper(item);
      return;
    }
    this.items.push(item);
    if (this.depth > this.maxDepth) this.maxDepth = this.depth;
  }

  /** True when a push would not have to wait. */
  get hasRoom(): boolean {
    return this.depth < this.capacity;
  }

  /** Take the next item if there is one, without waiting. */
  popNow(): T | undefined {
    if (this.depth === 0) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    this.waitingPushers.shift()?.();
    return item;
  }

  pop(): Promise<T> {
    if (this.depth > 0) return Promise.resolve(this.popNow()!);
    if (this.waitingPopper) throw new Error('BoundedQueue supports a single consumer');
    return new Promise<T>((resolve) => {
      this.waitingPopper = resolve;
    });
  }

  /**
   * The next item, or undefined once `waitMs` passes with none (at once when `waitMs` <= 0 and the queue is empty).
   * Queued items come first, however late it is: a sink's flush timer drains what already arrived before it writes.
   */
  popWithin(waitMs: number): Promise<T | undefined> {
    if (this.depth > 0) return Promise.resolve(this.popNow()!);
    if (waitMs === Number.POSITIVE_INFINITY) return this.pop();
    if (waitMs <= 0) return Promise.resolve(undefined);
    if (this.waitingPopper) throw new Error('BoundedQueue supports a single consumer');
    return new Promise<T | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.waitingPopper = null;
        resolve(undefined);
      }, waitMs);
      this.waitingPopper = (item) => {
        clearTimeout(timer);
        resolve(item);
      };
    });
  }
}
