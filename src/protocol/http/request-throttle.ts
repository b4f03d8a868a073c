import type { Clock } from '../../clock.js';
import { ConfigError, type Config } from '../../config/config.js';
import type { ThrottleLimit } from '../../config/throttle-config.js';
import { DomainError } from '../../domain/errors.js';
import { TokenBucket } from '../throttle/token-bucket.js';
import type { ServiceApi } from './route.js';

/**
 * `--throttle` on the HTTP door (decision 0041): one token bucket per configured limit, taken once
 * the request is authenticated and its operation known. Over the rate, the request is answered
 * ThrottlingException before its handler runs, so it changes nothing: 400 on the control plane,
 * 429 on the data planes (their statusOverrides, as the AWS models say).
 */
export class RequestThrottle {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    limits: readonly ThrottleLimit[],
    private readonly clock: Clock,
  ) {
    const now = clock.now();
    for (const limit of limits) {
      const bucket = new TokenBucket(limit.perSecond, limit.burst, now);
      for (const op of limit.operations) this.buckets.set(`${limit.api} ${op}`, bucket);
    }
  }

  get enabled(): boolean {
    return this.buckets.size > 0;
  }

  /** Throws ThrottlingException when `operation` of `api` is over its rate. */
  check(api: string | undefined, operation: string | undefined): void {
    const bucket = this.buckets.get(`${api} ${operation}`);
    if (bucket && !bucket.take(this.clock.now())) throw throttled();
  }

  /**
   * `check` for one operation, its bucket looked up once: undefined when no limit holds it. The
   * MQTT jobs door takes the HTTPS data plane's buckets this way (decision 0050), so both doors
   * draw on one allowance per operation, as AWS's account-level limit does.
   */
  checkerOf(api: ThrottleLimit['api'], operation: string): (() => void) | undefined {
    const bucket = this.buckets.get(`${api} ${operation}`);
    if (!bucket) return undefined;
    return () => {
      if (!bucket.take(this.clock.now())) throw throttled();
    };
  }
}

const throttled = () => new DomainError('ThrottlingException', 'Rate exceeded');

/** The limits' operations that none of `apis` serves (a typo in a rates file), as "api Operation". */
export function unknownOperations(limits: readonly ThrottleLimit[], apis: readonly ServiceApi[]): string[] {
  const served = new Set(apis.flatMap((a) => a.routes.map((r) => `${a.name} ${r.operation}`)));
  return limits.flatMap((l) => l.operations.map((op) => `${l.api} ${op}`)).filter((k) => !served.has(k));
}

/**
 * The door's throttle for `--throttle`, or undefined when it is off. A rates file that names an
 * operation no API serves is refused at start (ConfigError), so a typo cannot silently not limit.
 */
export function requestThrottle(throttle: Config['throttle'], apis: readonly ServiceApi[], clock: Clock): RequestThrottle | undefined {
  if (!throttle) return undefined;
  const unknown = throttle.source === 'file' ? unknownOperations(throttle.limits, apis) : [];
  if (unknown.length > 0) throw new ConfigError(`--throttle: no such operation: ${unknown.join(', ')}`);
  return new RequestThrottle(throttle.limits, clock);
}
