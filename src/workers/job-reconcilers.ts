import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ExecutionBulk } from '../domain/jobs/execution-bulk.js';
import type { JobNotification, JobNotifier } from '../domain/jobs/job-notifications.js';
import { ReleaseRaceLost, type JobRollout } from '../domain/jobs/job-rollout.js';
import type { Store } from '../store/store.js';
import type { Reconciler } from './engine.js';

/** Jobs claimed per round; each is one step of its own. */
const JOBS_PER_ROUND = 16;
/** Executions timed out per statement. */
const TIMEOUTS_PER_ROUND = 1000;

/**
 * Job ticks: rollout releases, maintenance-window edges, startTime and endTime, an abort's sweep.
 * A due job is claimed by moving its due time to the end of a lease; the step sets the next one.
 * A node that dies mid-step leaves the job to be claimed again once the lease lapses.
 */
export function jobTicker(deps: { store: Store; clock: Clock; rollout: JobRollout; leaseMs: number; log: Logger }): Reconciler {
  return {
    name: 'job-ticker',
    async run() {
      const now = deps.clock.now();
      const ids = await deps.store.jobRollouts.claimDue(now, now + deps.leaseMs, JOBS_PER_ROUND);
      for (const id of ids) {
        try {
          await deps.rollout.step(id);
        } catch (err) {
          if (!(err instanceof ReleaseRaceLost)) deps.log.error({ err, jobId: id }, 'job step failed; it is tried again when its lease lapses');
        }
      }
      return ids.length === JOBS_PER_ROUND;
    },
    nextDueAt: () => deps.store.jobRollouts.nextDueAt(),
  };
}

/** Execution timeouts (§3.5): set-based, each execution once, within a poll interval of its deadline. */
export function executionTimeouts(deps: { store: Store; bulk: ExecutionBulk }): Reconciler {
  return {
    name: 'execution-timeouts',
    async run() {
      return (await deps.bulk.timeOutDue(TIMEOUTS_PER_ROUND)) === TIMEOUTS_PER_ROUND;
    },
    nextDueAt: () => deps.store.jobExecutions.nextTimeoutAt(),
  };
}

/**
 * The notification outbox: entries a node wrote and did not cross off after commit (it died in
 * between) are sent once they are older than a lease, by whichever node takes them.
 */
export function notificationOutbox(deps: { store: Store; clock: Clock; leaseMs: number; notifier: JobNotifier }): Reconciler {
  const BATCH = 500;
  return {
    name: 'notification-outbox',
    async run() {
      if (deps.notifier.wantsThingNotifications === false) return false;
      const rows = await deps.store.jobOutbox.takeOlderThan(deps.clock.now() - deps.leaseMs, BATCH);
      for (const r of rows) deps.notifier.publish(JSON.parse(r.payload) as JobNotification[]);
      return rows.length === BATCH;
    },
    // Its times are wall-clock times, which the engine's (possibly virtual) clock cannot wait for:
    // the engine's poll finds leftovers, and they are rare (a crash between commit and send).
    nextDueAt: async () => undefined,
  };
}
