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
/** The clock stays within years 1970–9999: ISO-8601 and every date type on the wire hold those. */
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** An ISO-8601 time with its zone: 2030-01-01T00:00:00Z, 2030-01-01T02:00:00.5+02:00, 2030-01-01T00:00Z. */
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2}))$/;

/** Milliseconds since the epoch of an ISO-8601 time, or NaN unless it is exact, zoned and in range. */
export function parseIsoTime(text: unknown): number {
  const m = typeof text === 'string' ? ISO.exec(text) : null;
  if (!m) return NaN;
  const [y, mo, d, h, mi, sec] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number);
  const ms = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  const local = Date.UTC(y, mo - 1, d, h, mi, sec, ms);
  const back = new Date(local);
  // 2030-02-30 would become 2 March: refused rather than moved.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59) return NaN;
  const offset = m[8] === 'Z' ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11])) * 60_000;
  const at = local - offset;
  return at >= 0 && at <= LATEST ? at : NaN;
}

export class ClockControl {
  /** Changes run one at a time: a freeze sent during an advance applies after it, not inside it. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly clock: ControllableClock,
    private readonly engine: Engine,
  ) {}

  state(): ClockState {
    return { now: new Date(this.clock.now()).toISOString(), frozen: this.clock.frozen };
  }

  change(body: Record<string, unknown>): Promise<ClockState> {
    const next = this.chain.then(() => this.apply(body));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async apply(body: Record<string, unknown>): Promise<ClockState> {
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
        const ms = parseIsoTime(value);
        if (Number.isNaN(ms)) throw bad('set takes an ISO-8601 time with its zone, from 1970 to 9999, e.g. 2030-01-01T00:00:00Z.');
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
        if (this.clock.now() + value * 1000 > LATEST) throw bad('advanceSeconds would move the clock past the year 9999.');
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
