import type { JobExecutionsRolloutConfig } from './job-config-rules.js';

/**
 * How fast a job's targets are released (jobs.md §4, devices-and-engine.md §5). Pure: the engine
 * asks at each tick how many to release now and when to look again.
 *
 * - `maximumPerMinute` (default 1000) over a **sliding 60-second window**: at a tick, release
 *   `rate − (released in the last 60 s)`; never more than the rate in any 60 s. The first burst
 *   goes out at once.
 * - `exponentialRate`: step k = ⌊count ÷ threshold⌋, rate = min(maximumPerMinute,
 *   ⌊base × factor^k⌋), at least 1; count = released ("notified") or succeeded executions.
 * - The rate is read once per tick, so a tick's own releases raise it only from the next tick
 *   (otherwise a notified-things ramp would climb to the maximum within one instant). Ticks come
 *   when the oldest release leaves the window, so a steady rollout ticks once a minute.
 */

export const DEFAULT_MAXIMUM_PER_MINUTE = 1000;
export const RELEASE_WINDOW_MS = 60_000;

/** [atMs, count]: one tick's releases. */
export type ReleaseWindow = [number, number][];

/** [atMs, cursor]: after the tick at atMs, the queue was released up to entry `cursor`. */
export type ReleaseLog = [number, number][];

export interface RolloutProgress {
  /** Executions the rollout has created so far. */
  notified: number;
  /** Executions of the job that have SUCCEEDED. */
  succeeded: number;
}

export function rolloutRate(config: JobExecutionsRolloutConfig | undefined, progress: RolloutProgress): number {
  const max = config?.maximumPerMinute ?? DEFAULT_MAXIMUM_PER_MINUTE;
  const exp = config?.exponentialRate;
  if (!exp) return max;
  const criteria = exp.rateIncreaseCriteria;
  const bySucceeded = criteria.numberOfNotifiedThings === undefined;
  const threshold = (bySucceeded ? criteria.numberOfSucceededThings : criteria.numberOfNotifiedThings) ?? 1;
  const step = Math.floor((bySucceeded ? progress.succeeded : progress.notified) / Math.max(1, threshold));
  const rate = Math.floor(exp.baseRatePerMinute * exp.incrementFactor ** step);
  return Math.max(1, Math.min(max, Number.isFinite(rate) ? rate : max));
}

/** The window's entries still inside the last 60 s at `now`. */
export function liveWindow(window: ReleaseWindow, now: number): ReleaseWindow {
  return window.filter(([at]) => at > now - RELEASE_WINDOW_MS);
}

export interface ReleasePlan {
  /** How many to release now. */
  count: number;
  /** When another release may be due (undefined: nothing left to release). */
  nextAt?: number;
}

/**
 * What a tick at `now` may release, of `remaining` queued targets, at `rate` per minute, given the
 * releases recorded in `window`.
 */
export function planRelease(window: ReleaseWindow, now: number, rate: number, remaining: number): ReleasePlan {
  if (remaining <= 0) return { count: 0 };
  const live = liveWindow(window, now);
  const used = live.reduce((n, [, c]) => n + c, 0);
  const count = Math.max(0, Math.min(remaining, rate - used));
  if (count === remaining) return { count };
  // The window is full (at this tick's rate): the next release is due when its oldest entry
  // leaves it, or a minute from now when this tick is the only entry.
  const oldest = live.length > 0 ? live[0][0] : now;
  return { count, nextAt: (count > 0 && live.length === 0 ? now : oldest) + RELEASE_WINDOW_MS };
}

/** The window after a tick at `now` released `count`. */
export function recordRelease(window: ReleaseWindow, now: number, count: number): ReleaseWindow {
  const live = liveWindow(window, now);
  return count > 0 ? [...live, [now, count]] : live;
}
