import type { JobRolloutRow } from '../../store/job-rollouts.js';
import type { JobRow } from '../../store/jobs.js';
import type { Store } from '../../store/store.js';
import type { FanOutTarget } from '../../store/target-things.js';
import type { DomainContext } from '../context.js';
import type { ExecutionBulk } from './execution-bulk.js';
import type { JobExecutionsRolloutConfig } from './job-config-rules.js';
import { endBehaviorPlan, jobSchedule, mayRelease, schedulePhase } from './job-lifecycle.js';
import type { WorkSignal } from './job-domain.js';
import type { JobLifecycleService } from './job-lifecycle-service.js';
import { parseJson } from './job-views.js';
import { planRelease, recordRelease, rolloutRate, type ReleaseLog, type ReleaseWindow } from './rollout-rules.js';
import type { SchedulingConfig } from './schedule-rules.js';
import { noJobActivity, type JobActivity } from './job-activity.js';

const emptyRollout = (jobId: string): JobRolloutRow => ({
  job_id: jobId, total: 0, released: 0, notified: 0, release_window: null, release_log: null, stopped: 0, cancel_pending: 0, cancel_force: 0, due_at: null,
});

const minDefined = (...xs: (number | undefined)[]) => {
  const defined = xs.filter((x): x is number => x !== undefined);
  return defined.length === 0 ? undefined : Math.min(...defined);
};

/**
 * The rollout engine's domain side (decision 0013): a job's targets are queued, not executed, and
 * released at the pace of jobExecutionsRolloutConfig while its schedule lets it run. A target that
 * is not released has no execution anywhere. `step` is what the engine runs for a job that is due;
 * every write is a compare-and-set, so a second node doing the same step changes nothing.
 */
export class JobRollout {
  constructor(
    private readonly ctx: DomainContext,
    private readonly bulk: ExecutionBulk,
    private readonly lifecycle: JobLifecycleService,
    private readonly workDue: WorkSignal,
    private readonly activity: JobActivity = noJobActivity,
  ) {}

  /**
   * CreateJob / AssociateTargetsWithJob, inside their transaction (which holds the job row): the
   * things the targets reach join the job's queue in target order, and the first burst is
   * released at once when the job is IN_PROGRESS. A SNAPSHOT job that reaches nothing completes.
   */
  async enqueue(tx: Store, job: JobRow, targets: FanOutTarget[], opts: { skipExisting: boolean }): Promise<void> {
    let rollout = await tx.jobRollouts.get(job.job_id);
    if (!rollout) {
      rollout = emptyRollout(job.job_id);
      await tx.jobRollouts.insert(rollout);
    }
    const { queued, lastSeqByPosition } = await tx.jobRollouts.enqueue({ jobId: job.job_id, targets, afterSeq: Number(rollout.total), skipExisting: opts.skipExisting });
    await tx.jobs.setTargetLastSeqs(job.job_id, lastSeqByPosition);
    rollout = { ...rollout, total: Number(rollout.total) + queued };
    await tx.jobRollouts.update(job.job_id, { total: rollout.total });
    const due = await this.advance(tx, job, rollout);
    await tx.jobRollouts.update(job.job_id, { due_at: due ?? null });
    if (due !== undefined) tx.afterCommit(() => this.workDue.notify());
  }

  /**
   * The engine's work on one claimed job: a cancel it owes (an abort's sweep, endBehavior CANCEL
   * or FORCE_CANCEL) in a transaction of its own — executions before the job row — then the
   * schedule and the releases, with the job row and the rollout row locked. Sets when the job is
   * due next.
   */
  async step(jobId: string): Promise<void> {
    const [job, rollout] = [await this.ctx.store.jobs.get(jobId), await this.ctx.store.jobRollouts.get(jobId)];
    if (!job || !rollout) return;
    const phase = schedulePhase(jobSchedule(parseJson<SchedulingConfig>(job.scheduling_config)), this.ctx.clock.now());
    const endCancel = phase.ended && (job.status === 'IN_PROGRESS' || job.status === 'SCHEDULED') ? endBehaviorPlan(parseJson<SchedulingConfig>(job.scheduling_config)?.endBehavior).cancel : undefined;
    if (rollout.cancel_pending === 1 || endCancel) {
      await this.ctx.store.transaction(async (tx) => {
        const current = await tx.jobs.get(jobId);
        if (!current) return;
        if (endCancel && (current.status === 'IN_PROGRESS' || current.status === 'SCHEDULED')) {
          await this.lifecycle.cancel(tx, current, { force: endCancel.force });
        } else if (rollout.cancel_pending === 1) {
          const left = await this.bulk.cancelAll(tx, current, rollout.cancel_force === 1);
          await tx.jobRollouts.update(jobId, { cancel_pending: 0 });
          if (left > 0) await this.lifecycle.completeIfDone(tx, current);
        }
      });
    }
    await this.ctx.store.transaction(async (tx) => {
      const current = await tx.jobs.getForUpdate(jobId);
      const locked = await tx.jobRollouts.getForUpdate(jobId);
      if (!current || !locked) return;
      const due = await this.advance(tx, current, locked);
      await tx.jobRollouts.update(jobId, { due_at: due ?? null });
    });
  }

  /**
   * The schedule's edges and the releases a job is owed now, with the job row held. Returns when
   * the job is due next (a release tick, a window edge, startTime, endTime), if ever.
   */
  private async advance(tx: Store, job: JobRow, rollout: JobRolloutRow): Promise<number | undefined> {
    if (job.status !== 'IN_PROGRESS' && job.status !== 'SCHEDULED') return rollout.cancel_pending === 1 ? this.ctx.clock.now() : undefined;
    const now = this.ctx.clock.now();
    const phase = schedulePhase(jobSchedule(parseJson<SchedulingConfig>(job.scheduling_config)), now);
    let status = job.status;
    let stopped = rollout.stopped === 1;
    if (phase.ended && !stopped) {
      // endBehavior STOP_ROLLOUT (CANCEL and FORCE_CANCEL were carried out before this point).
      stopped = true;
      await tx.jobRollouts.update(job.job_id, { stopped: 1 });
    }
    if (phase.status !== status) {
      status = phase.status;
      await tx.jobs.update(job.job_id, { status, last_updated_at: now });
      // Its QUEUED executions come into devices' view, or leave it (pending-list.ts).
      await this.bulk.announceQueued(tx, job.job_id);
    }
    let nextRelease: number | undefined;
    if (mayRelease(status, stopped)) {
      const rate = rolloutRate(parseJson<JobExecutionsRolloutConfig>(job.rollout_config), { notified: Number(rollout.notified), succeeded: Number(job.n_succeeded) });
      const window = parseJson<ReleaseWindow>(rollout.release_window) ?? [];
      const plan = planRelease(window, now, rate, Number(rollout.total) - Number(rollout.released));
      if (plan.count > 0) {
        const { created, cursor } = await this.bulk.release(tx, job, rollout, plan.count);
        const log = parseJson<ReleaseLog>(rollout.release_log) ?? [];
        const moved = await tx.jobRollouts.advance(job.job_id, Number(rollout.released), {
          released: cursor,
          notified: Number(rollout.notified) + created,
          release_window: JSON.stringify(recordRelease(window, now, created)),
          release_log: JSON.stringify(created > 0 ? [...log, [now, cursor]] : log),
        });
        // Another node released these first: undo ours (the transaction rolls back whole).
        if (!moved) throw new ReleaseRaceLost(job.job_id);
        rollout = { ...rollout, released: cursor, notified: Number(rollout.notified) + created };
        if (created > 0) tx.afterCommit(() => this.activity.released(created));
      }
      nextRelease = Number(rollout.released) < Number(rollout.total) ? (plan.nextAt ?? now) : undefined;
    }
    const current = { ...job, status };
    await this.lifecycle.completeIfDone(tx, current);
    return minDefined(nextRelease, phase.ended ? undefined : phase.nextEdgeAt, rollout.cancel_pending === 1 ? now : undefined);
  }
}

/** A release another node made first; the engine drops this step and looks at the job again. */
export class ReleaseRaceLost extends Error {
  constructor(readonly jobId: string) {
    super(`another node released targets of job ${jobId} first`);
  }
}
