import type { ExecutionKey, FanOutTarget, JobExecutionRow } from '../../store/job-executions.js';
import { COUNTER_COLUMN, type CounterColumn, type JobRow } from '../../store/jobs.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { isPending, jobCancelPlan, timeoutAt, type JobExecutionStatus, type Transition } from './execution-state-machine.js';
import type { DestinationPackageVersion } from './job-document.js';
import { notificationFor, type JobNotification, type JobNotifier } from './job-notifications.js';
import { executionPatch, parseJson } from './job-views.js';

/** Writes the installed versions into a thing's `$package` shadow (ShadowService provides it). */
export interface PackageShadowRecorder {
  recordPackageVersions(tx: Store, thingName: string, versions: { packageName: string; versionName: string | null }[]): Promise<void>;
}

export interface PackageConfigurationReader {
  current(): Promise<{ enabled: boolean }>;
}

/** Fan-outs this large change the executions table enough to refresh its planner statistics. */
const LARGE_FAN_OUT = 10_000;
const counter = (status: string): CounterColumn => COUNTER_COLUMN[status as JobExecutionStatus];
const frontId = (row: JobExecutionRow | undefined) => (row ? `${row.job_id}#${Number(row.execution_number)}` : undefined);
export const keyOf = (row: JobExecutionRow): ExecutionKey => ({ jobId: row.job_id, thingName: row.thing_name, executionNumber: Number(row.execution_number) });

/**
 * The one place where job executions change. Every door (control plane, HTTPS data plane, MQTT,
 * membership events, timers) computes a transition with the state machine and hands it here, inside
 * its transaction. This service writes it and everything that must move with it, in the same
 * transaction: the job's counters (always exact, never counted), SNAPSHOT completion, the
 * `$package` shadow on SUCCEEDED, and — after commit — the notify / notify-next intents.
 */
export class ExecutionService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly deps: {
      notifier: JobNotifier;
      packageConfiguration: PackageConfigurationReader;
      packageShadow?: PackageShadowRecorder;
    },
  ) {}

  /**
   * Whether a SUCCEEDED execution writes `$package`. Read before the transaction: on SQLite the
   * one connection belongs to the transaction while it runs.
   */
  async packageUpdatesEnabled(): Promise<boolean> {
    return (await this.deps.packageConfiguration.current()).enabled;
  }

  private async front(tx: Store, thingName: string, namespaceId: string): Promise<string | undefined> {
    return frontId(await tx.jobExecutions.front(thingName, namespaceId));
  }

  private publish(tx: Store, notes: (JobNotification | undefined)[]): void {
    const list = notes.filter((n): n is JobNotification => n !== undefined);
    if (list.length > 0) tx.afterCommit(() => this.deps.notifier.publish(list));
  }

  /** Writes a transition of one execution and everything that follows from it. Returns the new row. */
  async apply(tx: Store, row: JobExecutionRow, job: JobRow, t: Transition, opts: { packageUpdates?: boolean } = {}): Promise<JobExecutionRow> {
    if (!t.changed) return row;
    const key = keyOf(row);
    const frontBefore = t.statusChanged ? await this.front(tx, row.thing_name, row.namespace_id) : undefined;
    const patch = executionPatch(t.after, timeoutAt(t.after));
    await tx.jobExecutions.update(key, patch);
    const next: JobExecutionRow = { ...row, ...patch };
    if (t.statusChanged) {
      await tx.jobs.adjustCounters(job.job_id, { [counter(t.before.status)]: -1, [counter(t.after.status)]: 1 });
      if (t.leftPending) await tx.jobs.completeIfDone(job.job_id, this.ctx.clock.now());
      if (t.after.status === 'SUCCEEDED' && opts.packageUpdates) await this.recordPackages(tx, row.thing_name, job);
      const frontAfter = await this.front(tx, row.thing_name, row.namespace_id);
      this.publish(tx, [
        notificationFor(row.thing_name, { pendingBefore: isPending(t.before.status), pendingAfter: isPending(t.after.status), frontBefore, frontAfter }),
      ]);
    }
    return next;
  }

  /**
   * packages.md §12: for each destination version, reported.<pkg>.version = <resolved version>,
   * or reported.<pkg> = null for `$null`. A version deleted since the job was created is skipped;
   * the execution succeeds either way.
   */
  private async recordPackages(tx: Store, thingName: string, job: JobRow): Promise<void> {
    const destinations = parseJson<DestinationPackageVersion[]>(job.destination_package_versions) ?? [];
    if (destinations.length === 0 || !this.deps.packageShadow) return;
    const versions: { packageName: string; versionName: string | null }[] = [];
    for (const d of destinations) {
      if (d.requestedVersionName === '$null') versions.push({ packageName: d.packageName, versionName: null });
      else if (await tx.packageVersions.get(d.packageName, d.versionName)) versions.push({ packageName: d.packageName, versionName: d.versionName });
    }
    try {
      await this.deps.packageShadow.recordPackageVersions(tx, thingName, versions);
    } catch (err) {
      // A refused shadow write (e.g. the shadow is full) must not fail the device's SUCCEEDED report.
      if (!(err instanceof DomainError)) throw err;
    }
  }

  /** A new QUEUED execution of `job` on one thing (a CONTINUOUS job's thing joining a target group). */
  async create(tx: Store, job: JobRow, thingName: string, executionNumber: number): Promise<void> {
    const namespaceId = job.namespace_id ?? '';
    const frontBefore = await this.front(tx, thingName, namespaceId);
    const seq = (await tx.jobExecutions.lockQueueSeq()) + 1;
    const now = this.ctx.clock.now();
    await tx.jobExecutions.insert({
      job_id: job.job_id,
      thing_name: thingName,
      execution_number: executionNumber,
      namespace_id: namespaceId,
      status: 'QUEUED',
      queue_seq: seq,
      queued_at: now,
      started_at: null,
      last_updated_at: now,
      version_number: 1,
      status_details: null,
      force_canceled: 0,
      retry_attempt: 0,
      step_deadline_at: null,
      in_progress_deadline_at: null,
      timeout_at: null,
    });
    await tx.jobExecutions.advanceQueueSeq(seq);
    await tx.jobs.adjustCounters(job.job_id, { n_queued: 1 });
    const frontAfter = await this.front(tx, thingName, namespaceId);
    this.publish(tx, [notificationFor(thingName, { pendingBefore: false, pendingAfter: true, frontBefore, frontAfter })]);
  }

  /** DeleteJobExecution: the row goes, and so does its count. */
  async delete(tx: Store, row: JobExecutionRow, job: JobRow): Promise<void> {
    const pending = isPending(row.status);
    const frontBefore = pending ? await this.front(tx, row.thing_name, row.namespace_id) : undefined;
    await tx.jobExecutions.delete(keyOf(row));
    await tx.jobs.adjustCounters(job.job_id, { [counter(row.status)]: -1 });
    if (pending) {
      await tx.jobs.completeIfDone(job.job_id, this.ctx.clock.now());
      const frontAfter = await this.front(tx, row.thing_name, row.namespace_id);
      this.publish(tx, [notificationFor(row.thing_name, { pendingBefore: true, pendingAfter: false, frontBefore, frontAfter })]);
    }
  }

  /**
   * Creates the executions of a job's targets set-based (CreateJob, AssociateTargetsWithJob) and
   * counts them onto the job. A SNAPSHOT job that reaches no thing is complete at once.
   */
  async fanOut(tx: Store, job: JobRow, targets: FanOutTarget[], onlyNew: boolean): Promise<number> {
    const base = await tx.jobExecutions.lockQueueSeq();
    const now = this.ctx.clock.now();
    const created = await tx.jobExecutions.fanOut({ jobId: job.job_id, namespaceId: job.namespace_id ?? '', targets, now, seqBase: base, onlyNew });
    if (created > 0) {
      await tx.jobExecutions.advanceQueueSeq(base + created);
      await tx.jobs.adjustCounters(job.job_id, { n_queued: created });
      this.publish(tx, [{ kind: 'fanOut', jobId: job.job_id, fromQueueSeq: base + 1 }]);
      if (created >= LARGE_FAN_OUT) tx.afterCommit(() => void this.ctx.store.jobExecutions.refreshStatistics().catch(() => undefined));
    }
    await tx.jobs.completeIfDone(job.job_id, now);
    return created;
  }

  /**
   * CancelJob's effect on executions, set-based, following jobCancelPlan: QUEUED → CANCELED and,
   * with force, IN_PROGRESS → CANCELED (forceCanceled). Terminal executions are untouched.
   */
  async cancelAll(tx: Store, job: JobRow, force: boolean): Promise<void> {
    const plan = jobCancelPlan(force);
    const affected = await tx.jobExecutions.pendingThingsOfJob(job.job_id, plan.map((p) => p.from));
    const now = this.ctx.clock.now();
    const delta: Partial<Record<CounterColumn, number>> = {};
    for (const step of plan) {
      const n = await tx.jobExecutions.bulkTransition(job.job_id, step.from, { status: step.to, bumpVersion: step.bumpVersion, forceCanceled: step.forceCanceled, now });
      delta[counter(step.from)] = (delta[counter(step.from)] ?? 0) - n;
      delta[counter(step.to)] = (delta[counter(step.to)] ?? 0) + n;
    }
    await tx.jobs.adjustCounters(job.job_id, delta);
    this.publish(tx, affected.map((a) => ({ kind: 'thing' as const, thingName: a.thingName, notify: true, notifyNext: a.front })));
  }

  /**
   * DeleteJob: every execution of the job disappears. Things with a pending one are told (their
   * pending lists change); the rows go in one statement.
   */
  async deleteAllOfJob(tx: Store, jobId: string): Promise<void> {
    const affected = await tx.jobExecutions.pendingThingsOfJob(jobId, ['QUEUED', 'IN_PROGRESS']);
    await tx.jobExecutions.deleteForJob(jobId);
    this.publish(tx, affected.map((a) => ({ kind: 'thing' as const, thingName: a.thingName, notify: true, notifyNext: a.front })));
  }
}

