import type { ExecutionKey, JobExecutionRow } from '../../store/job-executions.js';
import type { JobRow } from '../../store/jobs.js';
import type { Store } from '../../store/store.js';
import { systemClock, type Clock } from '../../clock.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { isPending, NEW_EXECUTION, timeoutAt, type Transition } from './execution-state-machine.js';
import type { JobExecutionsRetryConfig } from './job-config-rules.js';
import { shouldRetry } from './job-lifecycle.js';
import type { DestinationPackageVersion } from './job-document.js';
import { notificationFor, type JobNotification, type JobNotifier } from './job-notifications.js';
import { frontOf } from './pending-list.js';
import { executionPatch, parseJson } from './job-views.js';

export interface ApplyOptions {
  /** A device reported SUCCEEDED: `$package` is written when the package configuration enables it. */
  recordPackages?: boolean;
  /** The thing's front, read in this transaction just before (StartNext): not read again. */
  frontBefore?: JobExecutionRow;
}

/** Writes the installed versions into a thing's `$package` shadow (ShadowService provides it). */
export interface PackageShadowRecorder {
  recordPackageVersions(tx: Store, thingName: string, versions: { packageName: string; versionName: string | null }[]): Promise<void>;
}

export interface PackageConfigurationReader {
  /** Read through `store` (the caller's transaction, whose connection SQLite's one writer holds). */
  current(store?: Store): Promise<{ enabled: boolean }>;
}

/** Outbox entries crossed off in one statement at most. */
const OUTBOX_DELETE_CHUNK = 500;

/**
 * Attempts at one transition before giving up. Each retry reads the row locked, so on PostgreSQL the
 * second attempt holds the lock and cannot lose; SQLite has one writer and never loses.
 */
const MAX_RACE_RETRIES = 5;

/**
 * Whether a move from `before` to `after` learns if the execution was its list's front from an
 * index probe, with no read of the front before the change: an IN_PROGRESS execution leaving the
 * list was the front unless an IN_PROGRESS one queued before it remains (only it changed).
 */
const probesFront = (before: string, after: string) => before === 'IN_PROGRESS' && !isPending(after);

export const frontId = (row: JobExecutionRow | undefined) => (row ? `${row.job_id}#${Number(row.execution_number)}` : undefined);
export const keyOf = (row: JobExecutionRow): ExecutionKey => ({ jobId: row.job_id, thingName: row.thing_name, executionNumber: Number(row.execution_number) });

/**
 * What the job lifecycle does after executions of a job reached a terminal status (their counters
 * already moved): the abort check, then completion (JobLifecycleService).
 */
export interface JobOutcomes {
  afterTerminal(tx: Store, job: JobRow): Promise<void>;
}

/**
 * The one place where a job execution changes. Every door (control plane, HTTPS data plane, MQTT,
 * membership events) computes a transition with the state machine and hands it here, inside its
 * transaction. This service writes it and everything that must move with it, in the same
 * transaction: the job's counters (always exact, never counted), a retry, the job's abort check and
 * completion, the `$package` shadow on SUCCEEDED, and — after commit — the notify / notify-next
 * intents. Set-based changes of many executions are in ExecutionBulk.
 */
export class ExecutionService {
  private outcomes?: JobOutcomes;
  /** Outbox entries whose notifications were handed over, to be crossed off together (see publish). */
  private sent: number[] = [];

  constructor(
    private readonly ctx: DomainContext,
    private readonly deps: {
      notifier: JobNotifier;
      packageConfiguration: PackageConfigurationReader;
      packageShadow?: PackageShadowRecorder;
      /** The real time of the outbox (systemClock unless a test says otherwise). */
      wallClock?: Clock;
    },
  ) {}

  /** The job lifecycle is built on this service; it plugs its after-terminal rules in here. */
  setOutcomes(outcomes: JobOutcomes): void {
    this.outcomes = outcomes;
  }

  /** After executions of `job` ended (their counters moved): the job lifecycle's turn. */
  async afterTerminal(tx: Store, job: JobRow): Promise<void> {
    await this.outcomes?.afterTerminal(tx, job);
  }

  private async front(tx: Store, thingName: string, namespaceId: string): Promise<string | undefined> {
    return frontId(await frontOf(tx, thingName, namespaceId));
  }

  /** Per-thing intents are worth computing only for a notifier that keeps them. */
  get wantsThingNotifications(): boolean {
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
    if (!isPending(after)) {
      // One index probe instead of the front's whole row, on a device's every terminal update.
      if (frontBefore === undefined && probesFront(before, after)) return !(await tx.pendingLists.inProgressAhead(row.thing_name, row.namespace_id, row.queue_seq));
      return frontId(frontBefore) === id;
    }
    const wasFront = frontId(frontBefore) === id;
    if (before === 'QUEUED' && after === 'IN_PROGRESS') {
      // A QUEUED front means nothing was IN_PROGRESS, so it stays the front once started. Otherwise
      // it becomes the front unless an IN_PROGRESS execution queued before it stays ahead.
      if (wasFront) return false;
      return !(frontBefore?.status === 'IN_PROGRESS' && Number(frontBefore.queue_seq) < Number(row.queue_seq));
    }
    return (await this.front(tx, row.thing_name, row.namespace_id)) !== frontId(frontBefore);
  }

  /**
   * Notifications leave from the outbox: written in this transaction, handed to the notifier once
   * it commits and then crossed off; what a crash left behind is sent by the outbox reconciler.
   */
  async publish(tx: Store, notes: (JobNotification | undefined)[]): Promise<void> {
    const list = notes.filter((n): n is JobNotification => n !== undefined);
    if (list.length === 0 || this.deps.notifier.wantsThingNotifications === false) return;
    // Stamped with the wall clock: the outbox's age is about a process that died, in real time,
    // not about the domain's (possibly virtual) time.
    const id = await tx.jobOutbox.add(JSON.stringify(list), (this.deps.wallClock ?? systemClock).now());
    tx.afterCommit(() => {
      this.deps.notifier.publish(list);
      this.crossOff(id);
    });
  }

  /**
   * Sent entries are deleted a turn later, all of them in one statement: a delete of its own per
   * transition was a write transaction per device request. A crash in between only sends them
   * again, as a crash between sending and deleting always could.
   */
  private crossOff(id: number): void {
    this.sent.push(id);
    if (this.sent.length > 1) return;
    setImmediate(() => {
      const ids = this.sent;
      this.sent = [];
      for (let i = 0; i < ids.length; i += OUTBOX_DELETE_CHUNK) void this.ctx.store.jobOutbox.delete(ids.slice(i, i + OUTBOX_DELETE_CHUNK)).catch(() => undefined);
    });
  }

  /**
   * Writes a transition of one execution and everything that follows from it, as a compare-and-set
   * on the status and versionNumber `row` was read with. Returns the new row, or undefined when
   * another writer changed (or deleted) the execution first: then nothing was written and no
   * counter moved, and the caller decides again on what is there now (see `applyFresh`).
   */
  async apply(tx: Store, row: JobExecutionRow, job: JobRow, t: Transition, opts: ApplyOptions = {}): Promise<JobExecutionRow | undefined> {
    if (!t.changed) return row;
    const key = keyOf(row);
    const pendingBefore = isPending(t.before.status);
    const pendingAfter = isPending(t.after.status);
    // The pending list moves only when the status changes on a pending side.
    const notify = t.statusChanged && (pendingBefore || pendingAfter) && this.wantsThingNotifications;
    // StartNext has just read the front in this transaction (it is `row`): no second read. An
    // IN_PROGRESS execution leaving the list needs none either (probesFront).
    const needsFrontBefore = notify && pendingBefore && !probesFront(t.before.status, t.after.status);
    const frontBefore = needsFrontBefore ? (opts.frontBefore ?? (await frontOf(tx, row.thing_name, row.namespace_id))) : opts.frontBefore;
    const patch = executionPatch(t.after, timeoutAt(t.after));
    if (!(await tx.jobExecutions.compareAndSet(key, { status: t.before.status, versionNumber: t.before.versionNumber }, patch))) return undefined;
    const next: JobExecutionRow = { ...row, ...patch };
    if (t.statusChanged) {
      // In the thing's counter shard: devices of one job do not queue on one row (decision 0014).
      await tx.jobs.adjustCounters(job.job_id, { [t.before.status]: -1, [t.after.status]: 1 }, row.thing_name);
      if (t.after.status === 'SUCCEEDED' && opts.recordPackages) await this.recordPackages(tx, row.thing_name, job);
      if (notify) {
        const frontChanged = await this.frontMoved(tx, row, frontBefore, t.before.status, t.after.status);
        await this.publish(tx, [notificationFor(row.thing_name, { pendingBefore, pendingAfter, frontChanged, namespaceId: row.namespace_id })]);
      }
      if (t.enteredTerminal) {
        // A retry is queued in the same transaction as the failure (§3.6); the abort check that
        // follows sees it, and an abort cancels it.
        await this.retryIfDue(tx, next, job);
        await this.afterTerminal(tx, job);
      }
    }
    return next;
  }

  /** A FAILED or TIMED_OUT execution with retries left gets a new one: executionNumber + 1, retryAttempt + 1. */
  async retryIfDue(tx: Store, ended: JobExecutionRow, job: JobRow, opts: { counters?: 'shard' | 'job' } = {}): Promise<boolean> {
    if (!shouldRetry(parseJson<JobExecutionsRetryConfig>(job.retry_config), ended.status, Number(ended.retry_attempt))) return false;
    // Read again: the counters just moved hold the job row, so this is its state until commit (a
    // job cancelled or aborted meanwhile gets no retry).
    const current = await tx.jobs.get(job.job_id, { counters: false });
    if (!current || (current.status !== 'IN_PROGRESS' && current.status !== 'SCHEDULED')) return false;
    return this.create(tx, current, ended.thing_name, Number(ended.execution_number) + 1, Number(ended.retry_attempt) + 1, opts);
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
    opts: ApplyOptions = {},
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
    // Read in the transaction and only for jobs that deploy versions: most SUCCEEDED reports need no setting.
    if (!(await this.deps.packageConfiguration.current(tx)).enabled) return;
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
   * A new QUEUED execution of `job` on one thing: a CONTINUOUS job's thing joining a target group
   * (not paced by the rollout, §2.3), or a retry. False when a concurrent writer created that
   * execution first; nothing is counted twice then.
   */
  async create(tx: Store, job: JobRow, thingName: string, executionNumber: number, retryAttempt = 0, opts: { counters?: 'shard' | 'job' } = {}): Promise<boolean> {
    const namespaceId = job.namespace_id ?? '';
    const seq = await tx.jobExecutions.nextQueueSeq();
    const now = this.ctx.clock.now();
    const inserted = await tx.jobExecutions.insert(newExecutionRow(job.job_id, thingName, executionNumber, namespaceId, seq, now, retryAttempt));
    if (!inserted) return false;
    // A set-based caller holds the job row already and counts there; a single change uses its shard.
    await tx.jobs.adjustCounters(job.job_id, { [NEW_EXECUTION.status]: 1 }, opts.counters === 'job' ? undefined : thingName);
    if (this.wantsThingNotifications) {
      // Joining the list moves its front iff the new execution is the front now.
      const frontChanged = (await this.front(tx, thingName, namespaceId)) === `${job.job_id}#${executionNumber}`;
      await this.publish(tx, [notificationFor(thingName, { pendingBefore: false, pendingAfter: true, frontChanged, namespaceId })]);
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
    await tx.jobs.adjustCounters(job.job_id, { [row.status]: -1 }, row.thing_name);
    if (pending) {
      await this.afterTerminal(tx, job);
      if (frontChanged !== undefined) await this.publish(tx, [notificationFor(row.thing_name, { pendingBefore: true, pendingAfter: false, frontChanged, namespaceId: row.namespace_id })]);
    }
    return true;
  }
}

/** An execution as the state machine creates it (NEW_EXECUTION), as a row. */
export function newExecutionRow(jobId: string, thingName: string, executionNumber: number, namespaceId: string, queueSeq: number, now: number, retryAttempt: number): JobExecutionRow {
  return {
    job_id: jobId,
    thing_name: thingName,
    execution_number: executionNumber,
    namespace_id: namespaceId,
    status: NEW_EXECUTION.status,
    queue_seq: queueSeq,
    queued_at: now,
    started_at: null,
    last_updated_at: now,
    version_number: NEW_EXECUTION.versionNumber,
    status_details: null,
    force_canceled: 0,
    retry_attempt: retryAttempt,
    step_deadline_at: null,
    in_progress_deadline_at: null,
    timeout_at: null,
  };
}
