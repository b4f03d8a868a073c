import type { Logger } from 'pino';
import { isSettable, type Clock } from '../clock.js';

/**
 * Background work as small reconcilers (decision 0013). Each claims work that is due through the
 * store (leases and compare-and-set, so every node may run every reconciler), does one step per
 * item in one transaction, and says when it is due next. The engine runs them in a loop: at once
 * after a poke, at the earliest due time, and at least every `pollMs` for work other nodes add.
 */
export interface Reconciler {
  readonly name: string;
  /** Does the work due now; true when there may be more due at once (a full batch). */
  run(): Promise<boolean>;
  /** When its next work is due, if it knows (a query; other nodes may add earlier work). */
  nextDueAt(): Promise<number | undefined>;
}

/** A reconciler that reports more work this many times in a row in one step is left for the next. */
const MAX_ROUNDS_PER_STEP = 1000;

export class Engine {
  private running: Promise<void> = Promise.resolve();
  private stopped = true;
  private loopDone?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly reconcilers: Reconciler[],
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: { pollMs: number } = { pollMs: 1000 },
  ) {}

  /**
   * Runs every reconciler until none has work due now. Steps never overlap within a process (the
   * loop and a test's explicit step wait for each other); across processes, claims keep them apart.
   */
  step(): Promise<void> {
    const next = this.running.then(() => this.runAll());
    this.running = next.catch(() => undefined);
    return next;
  }

  /**
   * Runs `fn` between two steps, with no step running meanwhile in this process (test mode's
   * reset wipes what the reconcilers read).
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.running.then(fn);
    this.running = next.then(() => undefined, () => undefined);
    return next;
  }

  private async runAll(): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS_PER_STEP; round++) {
      let more = false;
      for (const r of this.reconcilers) {
        try {
          more = (await r.run()) || more;
        } catch (err) {
          this.log.error({ err, reconciler: r.name }, 'background step failed; it is tried again');
        }
      }
      if (!more) return;
    }
  }

  /** The earliest due time over all reconcilers. */
  async nextDueAt(): Promise<number | undefined> {
    let min: number | undefined;
    for (const r of this.reconcilers) {
      const at = await r.nextDueAt().catch(() => undefined);
      if (at !== undefined && (min === undefined || at < min)) min = at;
    }
    return min;
  }

  /**
   * On a settable (virtual) clock: moves time forward by `ms` event by event — to each due time in
   * turn, with a step there — so an hour of rollout, timeouts and window edges happen as they
   * would have, in milliseconds.
   */
  async advance(ms: number): Promise<void> {
    if (!isSettable(this.clock)) throw new Error('only a settable clock can be advanced');
    const target = this.clock.now() + ms;
    await this.step();
    for (;;) {
      const due = await this.nextDueAt();
      if (due === undefined || due > target) break;
      if (due > this.clock.now()) this.clock.set(due);
      await this.step();
      // Requests and device messages are served between the moments of a long advance, not after it.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (target > this.clock.now()) this.clock.set(target);
    await this.step();
  }

  /** A reconciler that exists only once a door is up (the external broker's subscriber lease). */
  add(reconciler: Reconciler): void {
    this.reconcilers.push(reconciler);
    this.poke();
  }

  /** Asks the loop to look for work now (after a commit that made some due). */
  poke(): void {
    this.wake?.();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loopDone;
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await this.step().catch(() => undefined);
      if (this.stopped) break;
      const due = await this.nextDueAt();
      await new Promise<void>((resolve) => {
        const timers: (() => void)[] = [];
        const done = () => {
          for (const cancel of timers) cancel();
          this.wake = undefined;
          resolve();
        };
        this.wake = done;
        const poll = setTimeout(done, this.opts.pollMs);
        poll.unref();
        timers.push(() => clearTimeout(poll));
        if (due !== undefined) timers.push(this.clock.setTimer(due, done));
      });
    }
  }
}
