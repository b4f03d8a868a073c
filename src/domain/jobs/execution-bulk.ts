import type { JobExecutionRow } from '../../store/job-executions.js';
import type { JobRolloutRow } from '../../store/job-rollouts.js';
import type { JobRow } from '../../store/jobs.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { jobCancelPlan, NEW_EXECUTION, PENDING_STATUSES, TIMEOUT_PATCH, type JobExecutionStatus } from './execution-state-machine.js';
import type { ExecutionService } from './execution-service.js';
import { noJobActivity, type JobActivity } from './job-activity.js';

/** Pending executions of a cancelled or deleted job read per page when their things are told. */
const PENDING_PAGE = 1_000;
/** Releases this large change the executions table enough to refresh its planner statistics. */
const LARGE_RELEASE = 10_000;

/**
 * One transition applied to many executions at once (decision 0013): releases from the rollout
 * queue, CancelJob / abort / endBehavior, timeouts, DeleteJob. Each is a handful of statements
 * whatever the number of executions: one compare-and-set UPDATE (or INSERT … SELECT) checked by
 * affected rows, one counter change per job, one completion check, batched notifications. The
 * rules come from the execution state machine (jobCancelPlan, TIMEOUT_PATCH, NEW_EXECUTION).
 */
export class ExecutionBulk {
  constructor(
    private readonly ctx: DomainContext,
    private readonly executions: ExecutionService,
    private readonly activity: JobActivity = noJobActivity,
  ) {}

  /**
   * Releases the rollout queue entries after `rollout.released` until `count` executions exist or
   * the queue ends (entries of deleted things, or of things with the job pending, are skipped).
   * Returns the executions created and the new cursor.
   */
  async release(tx: Store, job: JobRow, rollout: JobRolloutRow, count: number): Promise<{ created: number; cursor: number }> {
    let cursor = Number(rollout.released);
    let created = 0;
    const total = Number(rollout.total);
    const now = this.ctx.clock.now();
    while (created < count && cursor < total) {
      const toSeq = Math.min(total, cursor + (count - created));
      const seqs = await tx.jobExecutions.queueSeqSource(toSeq - cursor);
      const { created: n, firstQueueSeq } = await tx.jobRollouts.release({
        jobId: job.job_id,
        namespaceId: job.namespace_id ?? '',
        fromSeq: cursor,
        toSeq,
        now,
        queueSeq: seqs.expression,
        shape: { status: NEW_EXECUTION.status, versionNumber: NEW_EXECUTION.versionNumber, pendingStatuses: PENDING_STATUSES },
      });
      if (firstQueueSeq !== undefined) await this.executions.publish(tx, [{ kind: 'fanOut', jobId: job.job_id, fromQueueSeq: firstQueueSeq }]);
      created += n;
      cursor = toSeq;
    }
    if (created > 0) await tx.jobs.adjustCounters(job.job_id, { [NEW_EXECUTION.status]: created });
    if (created >= LARGE_RELEASE) tx.afterCommit(() => void this.ctx.store.jobExecutions.refreshStatistics().catch(() => undefined));
    return { created, cursor };
  }

  /** Every thing with a QUEUED execution of the job is told that its pending list changed. */
  async announceQueued(tx: Store, jobId: string): Promise<void> {
    await this.executions.publish(tx, [{ kind: 'fanOut', jobId, fromQueueSeq: 0 }]);
  }

  /**
   * CancelJob's effect on executions, set-based, following jobCancelPlan: QUEUED → CANCELED and,
   * with force, IN_PROGRESS → CANCELED (forceCanceled). Terminal executions are untouched. With
   * `skipLocked`, for callers that hold the job row already (an abort inside a device's update),
   * executions another transaction holds are left for the engine's sweep. Returns how many moved.
   */
  async cancelAll(tx: Store, job: JobRow, force: boolean, opts: { skipLocked?: boolean } = {}): Promise<number> {
    const plan = jobCancelPlan(force);
    await this.tellPendingThings(tx, job.job_id, plan.map((p) => p.from), job.namespace_id);
    const now = this.ctx.clock.now();
    const delta: Partial<Record<JobExecutionStatus, number>> = {};
    let moved = 0;
    for (const step of plan) {
      const n = await tx.jobExecutions.bulkTransition(job.job_id, step.from, { status: step.to, bumpVersion: step.bumpVersion, clearTimers: step.clearTimers, forceCanceled: step.forceCanceled, now }, opts);
      delta[step.from] = (delta[step.from] ?? 0) - n;
      delta[step.to] = (delta[step.to] ?? 0) + n;
      moved += n;
    }
    // Moving the counters takes the job row's lock (executions are always locked before it).
    await tx.jobs.adjustCounters(job.job_id, delta);
    return moved;
  }

  /**
   * The timeout reconciler's step: up to `limit` IN_PROGRESS executions whose deadline has passed
   * become TIMED_OUT (TIMEOUT_PATCH, one compare-and-set statement), then per job: counters,
   * retries, the abort check and completion, in the same transaction. Returns how many timed out.
   */
  async timeOutDue(limit: number): Promise<number> {
    return this.ctx.store.transaction(async (tx) => {
      const now = this.ctx.clock.now();
      const rows = await tx.jobExecutions.timeOutDue(now, 'IN_PROGRESS', { ...TIMEOUT_PATCH, now }, limit);
      const byJob = new Map<string, JobExecutionRow[]>();
      for (const r of rows) byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), r]);
      for (const [jobId, timedOut] of byJob) {
        await tx.jobs.adjustCounters(jobId, { IN_PROGRESS: -timedOut.length, [TIMEOUT_PATCH.status]: timedOut.length });
        const job = await tx.jobs.get(jobId);
        if (!job) continue;
        for (const r of timedOut) await this.executions.retryIfDue(tx, r, job, { counters: 'job' });
        await this.executions.publish(tx, timedOut.map((r) => ({ kind: 'thing' as const, thingName: r.thing_name, notify: true, notifyNext: true, namespaceId: r.namespace_id })));
        await this.executions.afterTerminal(tx, job);
      }
      if (rows.length > 0) tx.afterCommit(() => this.activity.timedOut(rows.length));
      return rows.length;
    });
  }

  /**
   * Before a set-based change takes the job's executions in `statuses` out of the pending lists:
   * notify for each of their things, notify-next where it was the front. Read page by page, and
   * not at all when the notifier drops per-thing intents.
   */
  private async tellPendingThings(tx: Store, jobId: string, statuses: string[], namespaceId: string | null): Promise<void> {
    if (!this.executions.wantsThingNotifications) return;
    for (const status of statuses) {
      let after: { thingName: string; executionNumber: number } | undefined;
      for (;;) {
        const rows = await tx.jobExecutions.pendingThingsOfJob(jobId, status, after, PENDING_PAGE);
        await this.executions.publish(tx, rows.map((a) => ({ kind: 'thing' as const, thingName: a.thingName, notify: true, notifyNext: a.front, ...(namespaceId ? { namespaceId } : {}) })));
        if (rows.length < PENDING_PAGE) break;
        after = rows[rows.length - 1];
      }
    }
  }

  /**
   * DeleteJob: every execution of the job disappears, with its rollout queue. Things with a
   * pending one are told (their pending lists change); the rows go in one statement.
   */
  async deleteAllOfJob(tx: Store, jobId: string): Promise<void> {
    const job = await tx.jobs.get(jobId, { counters: false });
    await this.tellPendingThings(tx, jobId, [...PENDING_STATUSES], job?.namespace_id ?? null);
    await tx.jobExecutions.deleteForJob(jobId);
    await tx.jobRollouts.delete(jobId);
  }
}
