import { Injectable } from '@nestjs/common';

/**
 * A small consecutive-failure circuit breaker, one per named target (5 failures open it for 60 s, then
 * 2 successes in half-open close it). cockatiel's breaker closes after a single half-open success, so we keep our
 * own; it is a few lines and has no timers (state is computed from the clock when asked).
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  failureThreshold?: number;
  openMs?: number;
  halfOpenSuccesses?: number;
}

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly halfOpenSuccesses: number;
  private failures = 0;
  private successes = 0;
  private openedAt: number | null = null;
  private halfOpen = false;

  constructor(
    readonly name: string,
    opts: CircuitBreakerOptions = {},
    private readonly now: () => number = Date.now,
    /** Called when a closed circuit opens (not when a failed trial re-opens it: one outage, one call). */
    private readonly opened: (breaker: CircuitBreaker) => void = () => undefined,
  ) {
    this.failureThreshold = opts.failureThreshold ?? 5;
    this.openMs = opts.openMs ?? 60_000;
    this.halfOpenSuccesses = opts.halfOpenSuccesses ?? 2;
  }

  state(): CircuitState {
    if (this.openedAt !== null) {
      if (this.now() - this.openedAt < this.openMs) return 'open';
      // The open period is over: let trial calls through.
      this.openedAt = null;
      this.halfOpen = true;
      this.successes = 0;
    }
    return this.halfOpen ? 'half_open' : 'closed';
  }

  /** Milliseconds until an open circuit lets a trial call through (0 when not open). */
  remainingOpenMs(): number {
    if (this.state() !== 'open' || this.openedAt === null) return 0;
    return Math.max(0, this.openMs - (this.now() - this.openedAt));
  }

  /** Whether a call may be attempted now. */
  allows(): boolean {
    return this.state() !== 'open';
  }

  recordSuccess(): void {
    const state = this.state();
    this.failures = 0;
    if (state === 'half_open' && ++this.successes >= this.halfOpenSuccesses) {
      this.halfOpen = false;
      this.successes = 0;
    }
  }

  recordFailure(): void {
    const state = this.state();
    if (state === 'half_open') {
      this.trip();
      return;
    }
    if (state === 'closed' && ++this.failures >= this.failureThreshold) {
      this.trip();
      this.opened(this);
    }
  }

  private trip(): void {
    this.openedAt = this.now();
    this.halfOpen = false;
    this.failures = 0;
    this.successes = 0;
  }
}

/**
 * The breakers of one app, one per target name, shared by every client that app creates with that name. Each app
 * has its own registry: a target failing for one app (its own proxy, its own timeout) opens nothing in another.
 */
@Injectable()
export class CircuitBreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly openedListeners: Array<(breaker: CircuitBreaker) => void> = [];

  /** The breaker of `name`, created with `opts` on first use (later options are ignored). */
  breakerFor(name: string, opts: CircuitBreakerOptions = {}): CircuitBreaker {
    let breaker = this.breakers.get(name);
    if (!breaker) {
      breaker = new CircuitBreaker(name, opts, Date.now, (b) => this.announceOpened(b));
      this.breakers.set(name, breaker);
    }
    return breaker;
  }

  /** Hears every breaker of this app that opens after a run of failures. */
  onOpened(listener: (breaker: CircuitBreaker) => void): void {
    this.openedListeners.push(listener);
  }

  /** Every breaker's state, for metrics and health. */
  states(): Record<string, CircuitState> {
    const out: Record<string, CircuitState> = {};
    for (const [name, b] of this.breakers) out[name] = b.state();
    return out;
  }

  private announceOpened(breaker: CircuitBreaker): void {
    for (const listener of this.openedListeners) listener(breaker);
  }
}
