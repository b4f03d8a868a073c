import type { ExecutionKey, FanOutTarget, JobExecutionRow } from '../../store/job-executions.js';
import type { JobRow } from '../../store/jobs.js';
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
/** Pending executions of a cancelled or deleted job read per page when their things are told. */
const PENDING_PAGE = 1_000;
/**
 * Attempts at one transition before giving up. Each retry reads the row locked, so on PostgreSQL the
 * second attempt holds the lock and cannot lose; SQLite has one writer and never loses.
 */
const MAX_RACE_RETRIES = 5;
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

  /** Per-thing intents are worth computing only for a notifier that keeps them. */
  private get wantsThingNotifications(): boolean {
    return this.deps.notifier.wantsThingNotifications !== false;
  }

  /**
   * Whether the front of the thing's pending list is another execution after `row` moved from
   * `before` (pending when `frontBefore` was read) to `after`, with as few look-ups as the change
   * allows. Only `row` changed, so: joining the list moves the front iff `row` is the front now;
   * leaving it moves the front iff `row` was the front.
   */
  private async frontMoved(tx: Store, row: JobExecutionRow, frontBefore: JobExecutionRow | undefined, before: string, after: string): Promise<boolean> {
    const id = frontId(row);
    if (!isPending(before)) return (await this.front(tx, row.thing_name, row.namespace_id)) === id;
    const wasFront = frontId(frontBefore) === id;
    if (!isPending(after)) return wasFront;
    if (before === 'QUEUED' && after === 'IN_PROGRESS') {
      // A QUEUED front means nothing was IN_PROGRESS, so it stays the front once started. Otherwise
      // it becomes the front unless an IN_PROGRESS execution queued before it stays ahead.
      if (wasFront) return false;
      return !(frontBefore?.status === 'IN_PROGRESS' && Number(frontBefore.queue_seq) < Number(row.queue_seq));
    }
    return (await this.front(tx, row.thing_name, row.namespace_id)) !== frontId(frontBefore);
  }

  private publish(tx: Store, notes: (JobNotification | undefined)[]): void {
    const list = notes.filter((n): n is JobNotification => n !== undefined);
    if (list.length > 0) tx.afterCommit(() => this.deps.notifier.publish(list));
  }

  /**
   * Writes a transition of one execution and everything that follows from it, as a compare-and-set
   * on the status and versionNumber `row` was read with. Returns the new row, or undefined when
   * another writer changed (or deleted) the execution first: then nothing was written and no
   * counter moved, and the caller decides again on what is there now (see `applyFresh`).
   */
  async apply(tx: Store, row: JobExecutionRow, job: JobRow, t: Transition, opts: { packageUpdates?: boolean } = {}): Promise<JobExecutionRow | undefined> {
    if (!t.changed) return row;
    const key = keyOf(row);
    const pendingBefore = isPending(t.before.status);
    const pendingAfter = isPending(t.after.status);
    // The pending list moves only when the status changes on a pending side.
    const notify = t.statusChanged && (pendingBefore || pendingAfter) && this.wantsThingNotifications;
    const frontBefore = notify && pendingBefore ? await tx.jobExecutions.front(row.thing_name, row.namespace_id) : undefined;
    const patch = executionPatch(t.after, timeoutAt(t.after));
    if (!(await tx.jobExecutions.compareAndSet(key, { status: t.before.status, versionNumber: t.before.versionNumber }, patch))) return undefined;
    const next: JobExecutionRow = { ...row, ...patch };
    if (t.statusChanged) {
      await tx.jobs.adjustCounters(job.job_id, { [t.before.status]: -1, [t.after.status]: 1 });
      if (t.leftPending) await tx.jobs.completeIfDone(job.job_id, this.ctx.clock.now());
      if (t.after.status === 'SUCCEEDED' && opts.packageUpdates) await this.recordPackages(tx, row.thing_name, job);
      if (notify) {
        const frontChanged = await this.frontMoved(tx, row, frontBefore, t.before.status, t.after.status);
        this.publish(tx, [notificationFor(row.thing_name, { pendingBefore, pendingAfter, frontChanged })]);
      }
    }
    return next;
  }

  /**
   * Decides a transition on `row` and applies it; when another writer got there first, reads the
   * execution again (locked) and decides again on what is there now, so a lost race is answered
   * from the current state (the state machine may then refuse it) rather than written from a stale
   * copy. `decide` returns undefined when nothing is to be done. Returns the row as it ends, or
   * undefined when the execution is gone.
   */
  async applyFresh(
    tx: Store,
    row: JobExecutionRow,
    job: JobRow,
    decide: (current: JobExecutionRow) => Transition | undefined,
    opts: { packageUpdates?: boolean } = {},
  ): Promise<JobExecutionRow | undefined> {
    let current: JobExecutionRow | undefined = row;
    for (let attempt = 0; current; attempt++) {
      const t = decide(current);
      if (!t) return current;
      const written = await this.apply(tx, current, job, t, opts);
      if (written) return written;
      if (attempt >= MAX_RACE_RETRIES) throw new Error(`execution ${frontId(current)} of ${current.thing_name} kept changing under a transition`);
      current = await tx.jobExecutions.lock(keyOf(current));
    }
    return undefined;
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

  /**
   * A new QUEUED execution of `job` on one thing (a CONTINUOUS job's thing joining a target group).
   * False when a concurrent writer created that execution first; nothing is counted twice then.
   */
  async create(tx: Store, job: JobRow, thingName: string, executionNumber: number): Promise<boolean> {
    const namespaceId = job.namespace_id ?? '';
    const seq = (await tx.jobExecutions.lockQueueSeq()) + 1;
    const now = this.ctx.clock.now();
    const inserted = await tx.jobExecutions.insert({
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
    if (!inserted) return false;
    await tx.jobExecutions.advanceQueueSeq(seq);
    await tx.jobs.adjustCounters(job.job_id, { QUEUED: 1 });
    if (this.wantsThingNotifications) {
      // Joining the list moves its front iff the new execution is the front now.
      const frontChanged = (await this.front(tx, thingName, namespaceId)) === `${job.job_id}#${executionNumber}`;
      this.publish(tx, [notificationFor(thingName, { pendingBefore: false, pendingAfter: true, frontChanged })]);
    }
    return true;
  }

  /**
   * DeleteJobExecution: the row goes, and so does its count, if it is still as it was read (a
   * compare-and-set, like `apply`). False when another writer changed or deleted it first.
   */
  async delete(tx: Store, row: JobExecutionRow, job: JobRow): Promise<boolean> {
    const pending = isPending(row.status);
    // Leaving the list moves its front iff this execution was the front.
    const frontChanged = pending && this.wantsThingNotifications ? (await this.front(tx, row.thing_name, row.namespace_id)) === frontId(row) : undefined;
    if (!(await tx.jobExecutions.deleteIf(keyOf(row), { status: row.status, versionNumber: Number(row.version_number) }))) return false;
    await tx.jobs.adjustCounters(job.job_id, { [row.status]: -1 });
    if (pending) {
      await tx.jobs.completeIfDone(job.job_id, this.ctx.clock.now());
      if (frontChanged !== undefined) this.publish(tx, [notificationFor(row.thing_name, { pendingBefore: true, pendingAfter: false, frontChanged })]);
    }
    return true;
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
      await tx.jobs.adjustCounters(job.job_id, { QUEUED: created });
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
    const pass = async (steps: typeof plan) => {
      await this.tellPendingThings(tx, job.job_id, steps.map((p) => p.from));
      const now = this.ctx.clock.now();
      const delta: Partial<Record<JobExecutionStatus, number>> = {};
      for (const step of steps) {
        const n = await tx.jobExecutions.bulkTransition(job.job_id, step.from, { status: step.to, bumpVersion: step.bumpVersion, forceCanceled: step.forceCanceled, now });
        delta[step.from] = (delta[step.from] ?? 0) - n;
        delta[step.to] = (delta[step.to] ?? 0) + n;
      }
      // Moving the counters takes the job row's lock (executions are always locked before it).
      await tx.jobs.adjustCounters(job.job_id, delta);
    };
    await pass(plan);
    // A CONTINUOUS job's new member holds the job row while it adds its execution, so once the
    // counters moved, any such execution has committed: the second look cancels it too, and none
    // can be added after (the job row is ours until commit).
    await pass(plan.filter((p) => p.from === 'QUEUED'));
  }

  /**
   * Before a set-based change takes the job's executions in `statuses` out of the pending lists:
   * notify for each of their things, notify-next where it was the front. Read page by page, and
   * not at all when the notifier drops per-thing intents.
   */
  private async tellPendingThings(tx: Store, jobId: string, statuses: string[]): Promise<void> {
    if (!this.wantsThingNotifications) return;
    for (const status of statuses) {
      let after: { thingName: string; executionNumber: number } | undefined;
      for (;;) {
        const rows = await tx.jobExecutions.pendingThingsOfJob(jobId, status, after, PENDING_PAGE);
        this.publish(tx, rows.map((a) => ({ kind: 'thing' as const, thingName: a.thingName, notify: true, notifyNext: a.front })));
        if (rows.length < PENDING_PAGE) break;
        after = rows[rows.length - 1];
      }
    }
  }

  /**
   * DeleteJob: every execution of the job disappears. Things with a pending one are told (their
   * pending lists change); the rows go in one statement.
   */
  async deleteAllOfJob(tx: Store, jobId: string): Promise<void> {
    await this.tellPendingThings(tx, jobId, ['QUEUED', 'IN_PROGRESS']);
    await tx.jobExecutions.deleteForJob(jobId);
  }
}

