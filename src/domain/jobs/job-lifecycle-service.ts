import type { JobRolloutRow } from '../../store/job-rollouts.js';
import type { JobRow } from '../../store/jobs.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import type { ExecutionBulk } from './execution-bulk.js';
import type { JobOutcomes } from './execution-service.js';
import type { AbortConfig } from './job-config-rules.js';
import { ABORT_REASON_CODE, abortComment, jobSchedule, mayComplete, schedulePhase, trippedAbortCriterion, type ExecutionCounts } from './job-lifecycle.js';
import type { WorkSignal } from './job-domain.js';
import type { SchedulingConfig } from './schedule-rules.js';
import { parseJson } from './job-views.js';
import { noJobActivity, type JobActivity } from './job-activity.js';

/**
 * Pending executions (as one transaction sees them) at or under which completion is checked again
 * with the job row held: more than the transitions that can be in flight at once on every node (a
 * node's database pool holds 10), so above it the job cannot be done whatever is in flight.
 */
const NEAR_END = 256;

/** A job's counters by execution status. */
export function executionCounts(job: JobRow): ExecutionCounts {
  return {
    QUEUED: Number(job.n_queued),
    IN_PROGRESS: Number(job.n_in_progress),
    SUCCEEDED: Number(job.n_succeeded),
    FAILED: Number(job.n_failed),
    REJECTED: Number(job.n_rejected),
    CANCELED: Number(job.n_canceled),
    REMOVED: Number(job.n_removed),
    TIMED_OUT: Number(job.n_timed_out),
  };
}

/** No rollout row (jobs from before the engine) means nothing is left to release. */
export const rolloutDone = (r: JobRolloutRow | undefined): boolean => !r || r.stopped === 1 || Number(r.released) >= Number(r.total);

/**
 * Carries out the job lifecycle's decisions (job-lifecycle.ts) inside the caller's transaction:
 * cancel (CancelJob, endBehavior), abort, completion. Every door that changes a job's status comes
 * here, so each rule has one home. Lock order, as everywhere: executions, then the job row, then
 * the rollout row.
 */
export class JobLifecycleService implements JobOutcomes {
  constructor(
    private readonly ctx: DomainContext,
    private readonly bulk: ExecutionBulk,
    private readonly workDue: WorkSignal,
    private readonly activity: JobActivity = noJobActivity,
  ) {}

  /**
   * CancelJob (and endBehavior CANCEL / FORCE_CANCEL): executions per the cancel plan, the job
   * CANCELED, the rollout stopped. A CONTINUOUS job's new member holds the job row while it adds
   * its execution, so once the counters moved any such execution has committed: a second look
   * (leaving executions other transactions hold to the engine's sweep) cancels it too.
   */
  async cancel(tx: Store, job: JobRow, opts: { force: boolean; reasonCode?: string; comment?: string }): Promise<void> {
    await this.bulk.cancelAll(tx, job, opts.force);
    const now = this.ctx.clock.now();
    await tx.jobs.update(job.job_id, {
      status: 'CANCELED',
      force_canceled: opts.force ? 1 : job.force_canceled,
      reason_code: opts.reasonCode ?? job.reason_code,
      comment: opts.comment ?? job.comment,
      last_updated_at: now,
    });
    const leftover = await this.bulk.cancelAll(tx, job, false, { skipLocked: true });
    await tx.jobRollouts.update(job.job_id, { stopped: 1, cancel_pending: leftover > 0 ? 1 : 0, cancel_force: 0, due_at: leftover > 0 ? now : null });
    if (leftover > 0) tx.afterCommit(() => this.workDue.notify());
  }

  /**
   * The abort check (§5), in the same transaction as every terminal transition, then completion.
   * The caller has moved the counters, so it holds the job row: the job read here is current.
   */
  async afterTerminal(tx: Store, job: JobRow): Promise<void> {
    if (job.abort_config !== null && (job.status === 'IN_PROGRESS' || job.status === 'SCHEDULED')) {
      const current = await tx.jobs.get(job.job_id);
      if (current && (current.status === 'IN_PROGRESS' || current.status === 'SCHEDULED')) {
        const tripped = trippedAbortCriterion(parseJson<AbortConfig>(current.abort_config), executionCounts(current));
        if (tripped) {
          await this.abort(tx, current, { reasonCode: ABORT_REASON_CODE, comment: abortComment(tripped) });
          return;
        }
      }
    }
    await this.completeIfDone(tx, job);
  }

  /**
   * An abort is a cancel without force. Its caller holds the job row (a device's update, a
   * timeout), and other devices may hold executions while they wait for that row: so executions
   * held elsewhere are skipped here and the engine sweeps them up at once (`cancel_pending`).
   */
  private async abort(tx: Store, job: JobRow, reason: { reasonCode: string; comment: string }): Promise<void> {
    const now = this.ctx.clock.now();
    await tx.jobs.update(job.job_id, { status: 'CANCELED', reason_code: reason.reasonCode, comment: reason.comment, last_updated_at: now });
    await this.bulk.cancelAll(tx, job, false, { skipLocked: true });
    await tx.jobRollouts.update(job.job_id, { stopped: 1, cancel_pending: 1, cancel_force: 0, due_at: now });
    tx.afterCommit(() => {
      this.workDue.notify();
      this.activity.aborted();
    });
  }

  /** A job whose lifecycle allows it (mayComplete) and that has nothing pending becomes COMPLETED. */
  async completeIfDone(tx: Store, job: JobRow): Promise<boolean> {
    // Counters are sharded: the last executions of a job may end at the same moment in different
    // shards, each transaction not yet seeing the other's. Near the end each takes the job row
    // before looking again: the last to get it sees every other one committed (decision 0014).
    // Far from the end nothing else needs reading: most terminal transitions stop here.
    const pending = await tx.jobs.pendingCount(job.job_id);
    if (pending === undefined || pending > NEAR_END) return false;
    const rollout = await tx.jobRollouts.get(job.job_id);
    const now = this.ctx.clock.now();
    const schedule = jobSchedule(parseJson<SchedulingConfig>(job.scheduling_config));
    const endPassed = schedulePhase(schedule, now).ended;
    // The store completes only an IN_PROGRESS job, checking its pending counters in the same statement.
    if (!mayComplete({ status: 'IN_PROGRESS', targetSelection: job.target_selection, rolloutDone: rolloutDone(rollout), endPassed })) return false;
    if (pending > 0) await tx.jobs.lock(job.job_id);
    return tx.jobs.completeWhenNothingPending(job.job_id, now);
  }
}
