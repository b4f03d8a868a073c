/**
 * Starts at most `perTurn` requests per turn of the event loop, in arrival order; the rest wait,
 * first come first served, for the next turns.
 *
 * Why (issue 8, item 7): libuv accepts one connection per event-loop turn (libuv PR 3696), so a
 * turn that runs the work of hundreds of ready requests (SQLite work is synchronous) leaves new
 * connections in the kernel's accept queue for that long. Under a burst of 500 clients on a cold
 * server, the last connections waited seconds before their first request was even read, while
 * early connections were served again and again. Bounding the work of a turn keeps turns short,
 * so connections are accepted at a steady pace and every request, first or hundredth, waits in one
 * FIFO line.
 */
export class TurnScheduler {
  private readonly queue: (() => void)[] = [];
  private budget: number;
  private refillScheduled = false;

  constructor(private readonly perTurn: number) {
    this.budget = perTurn;
  }

  /** Runs `start` now if this turn has budget left and nobody is waiting, else in a later turn. */
  run(start: () => void): void {
    this.scheduleRefill();
    if (this.budget > 0 && this.queue.length === 0) {
      this.budget--;
      start();
      return;
    }
    this.queue.push(start);
  }

  /** Requests waiting for a turn (for metrics and tests). */
  get waiting(): number {
    return this.queue.length;
  }

  private scheduleRefill(): void {
    if (this.refillScheduled) return;
    this.refillScheduled = true;
    // setImmediate runs after this turn's I/O: the next poll phase (and its accept) comes first.
    setImmediate(() => {
      this.refillScheduled = false;
      this.budget = this.perTurn;
      while (this.budget > 0 && this.queue.length > 0) {
        this.budget--;
        this.queue.shift()!();
      }
      if (this.queue.length > 0 || this.budget < this.perTurn) this.scheduleRefill();
    });
  }
}
