/**
 * A sliding-window limiter (calls per window), used to stay under Replicate's own limits (600 creates/min,
 * 3000 other calls/min) instead of collecting 429s. Waiters are served in order.
 */
export class SlidingWindowLimiter {
  private readonly stamps: number[] = [];
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly limit: number,
    readonly windowMs: number = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves when one more call fits in the window (and records it). */
  acquire(): Promise<void> {
    const turn = this.tail.then(() => this.waitForSlot());
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  /** Calls recorded in the current window. */
  inWindow(): number {
    this.prune();
    return this.stamps.length;
  }

  private prune(): void {
    const cutoff = this.now() - this.windowMs;
    while (this.stamps.length > 0 && this.stamps[0] <= cutoff) this.stamps.shift();
  }

  private async waitForSlot(): Promise<void> {
    for (;;) {
      this.prune();
      if (this.stamps.length < this.limit) {
        this.stamps.push(this.now());
        return;
      }
      const waitMs = Math.max(1, this.stamps[0] + this.windowMs - this.now());
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}
