/**
 * The one source of time. Everything time-based (timestamps, idempotency windows, later the
 * rollout engine and timers) reads `now()` from an injected Clock, so tests can run hours of
 * behaviour on a VirtualClock in milliseconds.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class VirtualClock implements Clock {
  private current: number;
  constructor(start: number = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    if (ms < 0) throw new Error('a clock does not go backwards');
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}
