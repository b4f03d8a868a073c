/**
 * The one source of time. Everything time-based (timestamps, idempotency windows, the rollout
 * engine and its timers) reads `now()` from an injected Clock and waits through `setTimer`, so
 * tests run hours of behaviour on a VirtualClock in milliseconds.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fire` once the clock reaches `atMs` (at once if it has); returns a cancel function. */
  setTimer(atMs: number, fire: () => void): () => void;
}

/** A clock that can be moved: tests and the test-double mode. The engine steps through it event by event. */
export interface SettableClock extends Clock {
  set(ms: number): void;
}

export const isSettable = (clock: Clock): clock is SettableClock => typeof (clock as Partial<SettableClock>).set === 'function';

/** setTimeout's limit is a 32-bit number of milliseconds; longer waits are chained. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(atMs, fire) {
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = () => {
      const wait = atMs - Date.now();
      if (wait <= 0) {
        handle = setTimeout(() => !cancelled && fire(), 0);
      } else {
        handle = setTimeout(() => !cancelled && (wait > MAX_TIMEOUT_MS ? arm() : fire()), Math.min(wait, MAX_TIMEOUT_MS));
      }
      handle.unref();
    };
    arm();
    return () => {
      cancelled = true;
      if (handle) clearTimeout(handle);
    };
  },
};

/** A clock that only moves when told to; its timers fire as it passes them. */
export class VirtualClock implements SettableClock {
  private current: number;
  private timers: { at: number; fire: () => void }[] = [];

  constructor(start: number = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    if (ms < 0) throw new Error('a clock does not go backwards');
    this.set(this.current + ms);
  }

  set(ms: number): void {
    this.current = ms;
    this.fireDue();
  }

  setTimer(atMs: number, fire: () => void): () => void {
    const timer = { at: atMs, fire };
    this.timers.push(timer);
    // Never synchronously: the caller is still arming it.
    if (atMs <= this.current) queueMicrotask(() => this.fireDue());
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  private fireDue(): void {
    const due = this.timers.filter((t) => t.at <= this.current);
    if (due.length === 0) return;
    this.timers = this.timers.filter((t) => t.at > this.current);
    for (const t of due) t.fire();
  }
}

/**
 * The test-double mode's clock (`--test-mode`): it runs with the wall clock until told otherwise,
 * and can be frozen, set, advanced and let run again. Its timers fire when real time or a jump
 * passes them.
 */
export class ControllableClock implements SettableClock {
  private offset = 0;
  private frozenAt?: number;
  private timers: { at: number; fire: () => void }[] = [];
  private armed?: NodeJS.Timeout;

  now(): number {
    return this.frozenAt ?? Date.now() + this.offset;
  }

  get frozen(): boolean {
    return this.frozenAt !== undefined;
  }

  freeze(): void {
    this.frozenAt = this.now();
    this.rearm();
  }

  /** Sets the time and freezes the clock there. */
  set(ms: number): void {
    this.frozenAt = ms;
    this.rearm();
  }

  /** Lets the clock run on from where it stands. */
  run(): void {
    if (this.frozenAt === undefined) return;
    this.offset = this.frozenAt - Date.now();
    this.frozenAt = undefined;
    this.rearm();
  }

  setTimer(atMs: number, fire: () => void): () => void {
    const timer = { at: atMs, fire };
    this.timers.push(timer);
    this.rearm();
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
      this.rearm();
    };
  }

  /** Fires what is due, and while running waits in real time for the earliest of the rest. */
  private rearm(): void {
    if (this.armed) clearTimeout(this.armed);
    this.armed = undefined;
    const now = this.now();
    const due = this.timers.filter((t) => t.at <= now);
    if (due.length > 0) {
      this.timers = this.timers.filter((t) => t.at > now);
      queueMicrotask(() => {
        for (const t of due) t.fire();
      });
    }
    if (this.frozenAt !== undefined || this.timers.length === 0) return;
    const next = Math.min(...this.timers.map((t) => t.at));
    this.armed = setTimeout(() => this.rearm(), Math.min(Math.max(0, next - now), MAX_TIMEOUT_MS));
    this.armed.unref();
  }
}
