import type { ControllableClock } from '../clock.js';
import { DomainError } from '../domain/errors.js';
import type { Engine } from '../workers/engine.js';

/**
 * The clock of `--test-mode` as users drive it (`/_fleetjobs/clock`): freeze, set, advance, run.
 * An advance moves through every due moment with the engine (Engine.advance) and returns once it
 * has caught up, so a test can assert right after it. A running clock runs on afterwards.
 */
export interface ClockState {
  now: string;
  frozen: boolean;
}

const MAX_ADVANCE_SECONDS = 10 * 366 * 24 * 3600;

export class ClockControl {
  constructor(
    private readonly clock: ControllableClock,
    private readonly engine: Engine,
  ) {}

  state(): ClockState {
    return { now: new Date(this.clock.now()).toISOString(), frozen: this.clock.frozen };
  }

  async change(body: Record<string, unknown>): Promise<ClockState> {
    const keys = Object.keys(body);
    const bad = (message: string) => new DomainError('InvalidRequestException', message);
    if (keys.length !== 1) throw bad('Give exactly one of freeze, set, advanceSeconds or run.');
    const [key] = keys;
    const value = body[key];
    switch (key) {
      case 'freeze':
        if (value !== true) throw bad('freeze takes true.');
        this.clock.freeze();
        await this.engine.step();
        break;
      case 'run':
        if (value !== true) throw bad('run takes true.');
        this.clock.run();
        await this.engine.step();
        break;
      case 'set': {
        const ms = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
        if (Number.isNaN(ms)) throw bad('set takes an ISO-8601 time, e.g. 2030-01-01T00:00:00Z.');
        if (ms > this.clock.now()) {
          // Forward: the engine goes through every moment on the way, as with an advance.
          this.clock.freeze();
          await this.engine.advance(ms - this.clock.now());
        } else {
          this.clock.set(ms);
          await this.engine.step();
        }
        break;
      }
      case 'advanceSeconds': {
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_ADVANCE_SECONDS) {
          throw bad(`advanceSeconds takes a number of seconds from 0 to ${MAX_ADVANCE_SECONDS}.`);
        }
        const running = !this.clock.frozen;
        this.clock.freeze();
        await this.engine.advance(Math.round(value * 1000));
        if (running) this.clock.run();
        break;
      }
      default:
        throw bad(`Unknown clock change ${key}; give one of freeze, set, advanceSeconds or run.`);
    }
    return this.state();
  }
}
