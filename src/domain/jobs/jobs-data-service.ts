import type { JobExecutionRow } from '../../store/job-executions.js';
import type { JobRow } from '../../store/jobs.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { FieldErrors } from '../validation.js';
import { executionNotFound, findExecution } from './execution-control-service.js';
import type { ExecutionService } from './execution-service.js';
import {
  applyDeviceUpdate,
  applyStartNext,
  checkDeviceStatus,
  checkStatusDetails,
  checkStepTimeout,
  executionStateView,
  NEW_EXECUTION,
  type JobExecutionStatus,
} from './execution-state-machine.js';
import type { TimeoutConfig } from './job-config-rules.js';
import { resolvePresignedPlaceholders, type DestinationPackageVersion } from './job-document.js';
import type { JobDocumentUrls } from './job-ports.js';
import { checkNamespaceId, checkThingName, jobNotFound } from './job-rules.js';
import { frontOf, JOB_STATUSES_HIDING_QUEUED, pendingList, pendingLists } from './pending-list.js';
import { devicePlaneExecution, devicePlaneExecutionSummary, executionState, parseJson } from './job-views.js';

/** What a thing's notify and notify-next carry (notificationContents). */
export interface NotificationContent {
  inProgress: ReturnType<typeof devicePlaneExecutionSummary>[];
  queued: ReturnType<typeof devicePlaneExecutionSummary>[];
  next?: ReturnType<typeof devicePlaneExecution> & { jobDocument?: string };
}

/** Pending executions listed to a device (GetPendingJobExecutions, notify): at most 10 (jobs.md §10.2). */
export const MAX_PENDING_LISTED = 10;
const NEXT = '$next';
const JOB_ID = /^[a-zA-Z0-9_-]+$/;

/**
 * The device side of IoT Jobs (jobs.md §9; the MQTT door will call the same methods): pending
 * list, start-next, describe, update. Status changes go through the state machine and
 * ExecutionService; documents are returned as strings with presigned URLs freshly generated.
 */
export class JobsDataService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly executions: ExecutionService,
    private readonly documentUrls: JobDocumentUrls,
  ) {}

  private checkJobIdOrNext(errors: FieldErrors, value: unknown): string {
    if (value === NEXT) return NEXT;
    return errors.string(value, 'jobId', { required: true, min: 1, max: 64, pattern: JOB_ID, patternText: '[a-zA-Z0-9_-]+|^\\$next' }) ?? '';
  }

  /** The job document as the execution's device gets it: presigned-URL placeholders replaced on every read. */
  async deviceDocument(job: JobRow, execution: JobExecutionRow): Promise<string> {
    return resolvePresignedPlaceholders(job.document ?? '', {
      presignedUrlConfig: parseJson(job.presigned_url_config),
      destinationPackageVersions: parseJson<DestinationPackageVersion[]>(job.destination_package_versions) ?? [],
      presign: (loc, expiresInSec, method) => this.documentUrls.presign(loc, expiresInSec, method),
      execution: { thingName: execution.thing_name, jobId: execution.job_id, executionNumber: execution.execution_number },
    });
  }

  private async withDocument(row: JobExecutionRow, job: JobRow | undefined, include: boolean) {
    const view = devicePlaneExecution(row, this.ctx.clock.now());
    if (!include) return view;
    // The document needs the job's settings, not its counters (their sum over the shards is a second read).
    const j = job ?? (await this.ctx.store.jobs.get(row.job_id, { counters: false }));
    return j ? { ...view, jobDocument: await this.deviceDocument(j, row) } : view;
  }

  async getPendingJobExecutions(input: { thingName?: unknown; namespaceId?: unknown }) {
    const errors = new FieldErrors('InvalidRequestException');
    const thingName = checkThingName(errors, input.thingName);
    const namespaceId = checkNamespaceId(errors, input.namespaceId) ?? '';
    errors.throwIfAny();
    const { inProgress, queued } = await pendingList(this.ctx.store, thingName, namespaceId, MAX_PENDING_LISTED);
    return { inProgressJobs: inProgress.map(devicePlaneExecutionSummary), queuedJobs: queued.map(devicePlaneExecutionSummary) };
  }

  // ---- What the MQTT door's notifications carry (jobs.md §10.2), read after the change committed ----

  /**
   * What notify (the pending list, IN_PROGRESS then QUEUED, at most 10) and notify-next (its front
   * with the document; undefined when the list is empty) carry, for many things of one namespace:
   * one read of their lists and one of each job whose document goes out, however many things.
   */
  async notificationContents(namespaceId: string, wanted: { thingName: string; notify: boolean; next: boolean }[]): Promise<Map<string, NotificationContent>> {
    const lists = await pendingLists(this.ctx.store, wanted.map((w) => w.thingName), namespaceId, wanted.some((w) => w.notify) ? MAX_PENDING_LISTED : 1);
    const jobs = new Map<string, Promise<JobRow | undefined>>();
    const out = new Map<string, NotificationContent>();
    for (const w of wanted) {
      const { inProgress, queued } = lists.get(w.thingName) ?? { inProgress: [], queued: [] };
      const front = inProgress[0] ?? queued[0];
      let next: NotificationContent['next'];
      if (w.next && front) {
        if (!jobs.has(front.job_id)) jobs.set(front.job_id, this.ctx.store.jobs.get(front.job_id, { counters: false }));
        next = await this.withDocument(front, await jobs.get(front.job_id), true);
      }
      out.set(w.thingName, {
        inProgress: (w.notify ? inProgress : []).map(devicePlaneExecutionSummary),
        queued: (w.notify ? queued : []).map(devicePlaneExecutionSummary),
        next,
      });
    }
    return out;
  }

  /** The things a release of `jobId` reached (QUEUED executions numbered `fromQueueSeq` and above), a page at a time. */
  releasedThings(jobId: string, fromQueueSeq: number, after: string | undefined, limit: number): Promise<string[]> {
    return this.ctx.store.jobExecutions.thingsOfJobInStatus(jobId, NEW_EXECUTION.status, fromQueueSeq, after, limit);
  }

  /** The namespace of a job ('' for none), for the topics its notifications go to. */
  async namespaceOf(jobId: string): Promise<string | undefined> {
    const job = await this.ctx.store.jobs.get(jobId, { counters: false });
    return job ? (job.namespace_id ?? '') : undefined;
  }

  /** StartNextPendingJobExecution: the front execution; a QUEUED one starts, an IN_PROGRESS one is returned as is. */
  async startNextPendingJobExecution(input: { thingName?: unknown; statusDetails?: unknown; stepTimeoutInMinutes?: unknown; namespaceId?: unknown }) {
    const errors = new FieldErrors('InvalidRequestException');
    const thingName = checkThingName(errors, input.thingName);
    const statusDetails = checkStatusDetails(errors, input.statusDetails);
    const stepTimeoutInMinutes = checkStepTimeout(errors, input.stepTimeoutInMinutes, false);
    const namespaceId = checkNamespaceId(errors, input.namespaceId) ?? '';
    errors.throwIfAny();
    // Nothing pending: answered from one read, without a transaction (most devices ask when idle).
    const seen = await frontOf(this.ctx.store, thingName, namespaceId);
    if (!seen) return {};
    const result = await this.ctx.store.transaction(async (tx) => {
      for (let attempt = 0; attempt < MAX_FRONT_ATTEMPTS; attempt++) {
        // The first attempt takes a QUEUED front just read as it is: starting it is a compare-and-set
        // on the status and versionNumber read (it takes the row's lock on PostgreSQL), which is all
        // a locked re-read would check. An IN_PROGRESS front is answered as it is, so it is read
        // again, locked, to answer what is there now; later attempts read the front again.
        const row = attempt === 0 && seen.status === 'QUEUED' ? seen : await lockFront(tx, thingName, namespaceId, attempt === 0 ? seen : undefined);
        if (row === null) continue;
        if (!row) return undefined;
        const job = await tx.jobs.get(row.job_id, { counters: false });
        // The front read before the transaction may have lost its job, or been hidden since (its
        // job SCHEDULED again, §6): then read the front again.
        if (!job || (row.status === 'QUEUED' && JOB_STATUSES_HIDING_QUEUED.includes(job.status))) {
          if (attempt === 0) continue;
          return undefined;
        }
        const t = applyStartNext(executionState(row), { statusDetails, stepTimeoutInMinutes }, { now: this.ctx.clock.now(), ...timeoutOf(job) });
        // A lost compare-and-set means the front changed under us: look for the front again.
        const written = await this.executions.apply(tx, row, job, t, { frontBefore: row });
        if (written) return { row: written, job };
      }
      throw new Error(`the front execution of ${thingName} kept changing under StartNextPendingJobExecution`);
    });
    if (!result) return {};
    return { execution: await this.withDocument(result.row, result.job, true) };
  }

  /** DescribeJobExecution: a job id or `$next` (a peek at the front, nothing started). */
  async describeJobExecution(input: { thingName?: unknown; jobId?: unknown; executionNumber?: unknown; includeJobDocument?: unknown; namespaceId?: unknown }) {
    const errors = new FieldErrors('InvalidRequestException');
    const thingName = checkThingName(errors, input.thingName);
    const jobId = this.checkJobIdOrNext(errors, input.jobId);
    const executionNumber = errors.number(input.executionNumber, 'executionNumber', { integer: true, min: 0 });
    const includeJobDocument = errors.boolean(input.includeJobDocument, 'includeJobDocument') ?? true;
    const namespaceId = checkNamespaceId(errors, input.namespaceId) ?? '';
    errors.throwIfAny();
    if (jobId === NEXT) {
      const front = await frontOf(this.ctx.store, thingName, namespaceId);
      return front ? { execution: await this.withDocument(front, undefined, includeJobDocument) } : {};
    }
    const row = await findExecution(this.ctx.store, jobId, thingName, executionNumber);
    return { execution: await this.withDocument(row, undefined, includeJobDocument) };
  }

  /** UpdateJobExecution: the state machine decides; the answer carries only what was asked for. */
  async updateJobExecution(input: {
    thingName?: unknown;
    jobId?: unknown;
    status?: unknown;
    statusDetails?: unknown;
    stepTimeoutInMinutes?: unknown;
    expectedVersion?: unknown;
    includeJobExecutionState?: unknown;
    includeJobDocument?: unknown;
    executionNumber?: unknown;
  }) {
    const errors = new FieldErrors('InvalidRequestException');
    const thingName = checkThingName(errors, input.thingName);
    const jobId = errors.string(input.jobId, 'jobId', { required: true, min: 1, max: 64, pattern: JOB_ID, patternText: '[a-zA-Z0-9_-]+' }) ?? '';
    const status = checkDeviceStatus(errors, input.status);
    const statusDetails = checkStatusDetails(errors, input.statusDetails);
    const stepTimeoutInMinutes = checkStepTimeout(errors, input.stepTimeoutInMinutes, true);
    const expectedVersion = errors.number(input.expectedVersion, 'expectedVersion', { integer: true });
    const includeState = errors.boolean(input.includeJobExecutionState, 'includeJobExecutionState') ?? false;
    const includeDocument = errors.boolean(input.includeJobDocument, 'includeJobDocument') ?? false;
    const executionNumber = errors.number(input.executionNumber, 'executionNumber', { integer: true, min: 0 });
    errors.throwIfAny();
    const { row, job } = await this.ctx.store.transaction(async (tx) => {
      const job = await tx.jobs.get(jobId, { counters: false });
      if (!job) throw jobNotFound(jobId);
      // One read: the row is locked as it is found (the latest one when no executionNumber is given).
      const locked = executionNumber === undefined
        ? await tx.jobExecutions.lockLatest(jobId, thingName)
        : await tx.jobExecutions.lock({ jobId, thingName, executionNumber });
      if (!locked) throw executionNotFound(jobId, thingName, executionNumber);
      const row = await this.executions.applyFresh(
        tx,
        locked,
        job,
        (current) =>
          applyDeviceUpdate(
            executionState(current),
            { status: status as JobExecutionStatus, statusDetails, expectedVersion, stepTimeoutInMinutes },
            { now: this.ctx.clock.now(), ...timeoutOf(job) },
          ),
        { recordPackages: status === 'SUCCEEDED' },
      );
      if (!row) throw executionNotFound(jobId, thingName, executionNumber);
      return { row, job };
    });
    return {
      ...(includeState ? { executionState: executionStateView(executionState(row)) } : {}),
      ...(includeDocument ? { jobDocument: await this.deviceDocument(job, row) } : {}),
    };
  }
}

/** Attempts to find and lock a thing's front execution while other writers keep moving it. */
const MAX_FRONT_ATTEMPTS = 10;

/**
 * The front of a thing's pending list, locked and re-checked: undefined when the list is empty,
 * null when the front read changed before it could be locked (the caller looks again).
 */
async function lockFront(tx: Store, thingName: string, namespaceId: string, seen?: JobExecutionRow): Promise<JobExecutionRow | undefined | null> {
  const front = seen ?? (await frontOf(tx, thingName, namespaceId));
  if (!front) return undefined;
  const row = await tx.jobExecutions.lock({ jobId: front.job_id, thingName, executionNumber: Number(front.execution_number) });
  return row && row.status === front.status && Number(row.version_number) === Number(front.version_number) ? row : null;
}

function timeoutOf(job: JobRow): { inProgressTimeoutInMinutes?: number } {
  const config = parseJson<TimeoutConfig>(job.timeout_config);
  return config?.inProgressTimeoutInMinutes !== undefined ? { inProgressTimeoutInMinutes: config.inProgressTimeoutInMinutes } : {};
}
