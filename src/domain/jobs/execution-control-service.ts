import type { JobExecutionRow } from '../../store/job-executions.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { notFound } from '../errors.js';
import { decodeToken, page, pageSize } from '../pagination.js';
import { FieldErrors } from '../validation.js';
import type { ExecutionService } from './execution-service.js';
import { applyCancel, checkDeletable, checkStatusDetails, EXECUTION_STATUSES } from './execution-state-machine.js';
import { checkFlag, checkJobId, checkNamespaceId, checkThingName, jobNotFound } from './job-rules.js';
import { controlPlaneExecution, controlPlaneExecutionSummary, executionState } from './job-views.js';

const isSeq = (k: unknown): k is number => typeof k === 'number' && Number.isInteger(k);
const isThingCursor = (k: unknown): k is [string, number] => Array.isArray(k) && k.length === 2 && typeof k[0] === 'string' && Number.isInteger(k[1]);

export const executionNotFound = (jobId: string, thingName: string, executionNumber?: number) =>
  notFound(`Job execution ${executionNumber !== undefined ? `number ${executionNumber} ` : ''}of job ${jobId} on thing ${thingName} cannot be found.`);

function checkExecutionNumber(errors: FieldErrors, value: unknown, required = false): number | undefined {
  return errors.number(value, 'executionNumber', { required, integer: true, min: 0 });
}

/** Finds one execution: the given number, else the latest (jobs.md §3.3). */
export async function findExecution(store: Store, jobId: string, thingName: string, executionNumber: number | undefined): Promise<JobExecutionRow> {
  const row = executionNumber === undefined
    ? await store.jobExecutions.latest(jobId, thingName)
    : await store.jobExecutions.get({ jobId, thingName, executionNumber });
  if (!row) throw executionNotFound(jobId, thingName, executionNumber);
  return row;
}

/** Control-plane job execution operations (jobs.md §3.7, §8). */
export class ExecutionControlService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly executions: ExecutionService,
  ) {}

  async describeJobExecution(input: { jobId?: unknown; thingName?: unknown; executionNumber?: unknown }) {
    const errors = new FieldErrors('InvalidRequestException');
    const jobId = checkJobId(errors, input.jobId);
    const thingName = checkThingName(errors, input.thingName);
    const executionNumber = checkExecutionNumber(errors, input.executionNumber);
    errors.throwIfAny();
    const row = await findExecution(this.ctx.store, jobId, thingName, executionNumber);
    return { execution: controlPlaneExecution(row, this.ctx.arns, this.ctx.clock.now()) };
  }

  /** A job's executions, by thing name then executionNumber. */
  async listJobExecutionsForJob(input: { jobId?: unknown; status?: unknown; maxResults?: unknown; nextToken?: unknown }) {
    const errors = new FieldErrors('InvalidRequestException');
    const jobId = checkJobId(errors, input.jobId);
    const status = errors.string(input.status, 'status', { enum: EXECUTION_STATUSES });
    const limit = pageSize(errors, input.maxResults, 250);
    const token = errors.string(input.nextToken, 'nextToken');
    errors.throwIfAny();
    const list = `executionsForJob:${jobId}:${status ?? ''}`;
    const after = decodeToken(list, token, 'InvalidRequestException', isThingCursor);
    if (!(await this.ctx.store.jobs.get(jobId))) throw jobNotFound(jobId);
    const rows = await this.ctx.store.jobExecutions.listForJob(jobId, status, after && { thingName: after[0], executionNumber: after[1] }, limit + 1);
    const { items, nextToken } = page(rows, limit, list, (r) => [r.thing_name, Number(r.execution_number)]);
    return {
      executionSummaries: items.map((r) => ({ thingArn: this.ctx.arns.thing(r.thing_name), jobExecutionSummary: controlPlaneExecutionSummary(r) })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  /** A thing's executions, newest first (§14 #8). */
  async listJobExecutionsForThing(input: { thingName?: unknown; status?: unknown; namespaceId?: unknown; jobId?: unknown; maxResults?: unknown; nextToken?: unknown }) {
    const errors = new FieldErrors('InvalidRequestException');
    const thingName = checkThingName(errors, input.thingName);
    const status = errors.string(input.status, 'status', { enum: EXECUTION_STATUSES });
    const namespaceId = checkNamespaceId(errors, input.namespaceId);
    const jobId = input.jobId === undefined ? undefined : checkJobId(errors, input.jobId);
    const limit = pageSize(errors, input.maxResults, 250);
    const token = errors.string(input.nextToken, 'nextToken');
    errors.throwIfAny();
    const list = `executionsForThing:${JSON.stringify([thingName, status, namespaceId, jobId])}`;
    const before = decodeToken(list, token, 'InvalidRequestException', isSeq);
    const rows = await this.ctx.store.jobExecutions.listForThing(thingName, { status, namespaceId, jobId }, before, limit + 1);
    const { items, nextToken } = page(rows, limit, list, (r) => Number(r.queue_seq));
    return {
      executionSummaries: items.map((r) => ({ jobId: r.job_id, jobExecutionSummary: controlPlaneExecutionSummary(r) })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  /** CancelJobExecution: the latest execution of the job on the thing (§3.7). */
  async cancelJobExecution(input: { jobId?: unknown; thingName?: unknown; force?: unknown; expectedVersion?: unknown; statusDetails?: unknown }): Promise<Record<string, never>> {
    const errors = new FieldErrors('InvalidRequestException');
    const jobId = checkJobId(errors, input.jobId);
    const thingName = checkThingName(errors, input.thingName);
    const force = checkFlag(errors, input.force, 'force');
    const expectedVersion = errors.number(input.expectedVersion, 'expectedVersion', { integer: true });
    const statusDetails = checkStatusDetails(errors, input.statusDetails, 'statusDetails', 10);
    errors.throwIfAny();
    await this.ctx.store.transaction(async (tx) => {
      const job = await tx.jobs.get(jobId);
      if (!job) throw jobNotFound(jobId);
      const latest = await tx.jobExecutions.lockLatest(jobId, thingName);
      if (!latest) throw executionNotFound(jobId, thingName);
      const now = this.ctx.clock.now();
      const row = await this.executions.applyFresh(tx, latest, job, (current) => applyCancel(executionState(current), { force, expectedVersion, statusDetails }, now));
      if (!row) throw executionNotFound(jobId, thingName);
    });
    return {};
  }

  /** DeleteJobExecution: terminal or QUEUED without force, anything with force (§14 #9). */
  async deleteJobExecution(input: { jobId?: unknown; thingName?: unknown; executionNumber?: unknown; force?: unknown; namespaceId?: unknown }): Promise<Record<string, never>> {
    const errors = new FieldErrors('InvalidRequestException');
    const jobId = checkJobId(errors, input.jobId);
    const thingName = checkThingName(errors, input.thingName);
    const executionNumber = checkExecutionNumber(errors, input.executionNumber, true);
    const force = checkFlag(errors, input.force, 'force');
    checkNamespaceId(errors, input.namespaceId);
    errors.throwIfAny();
    await this.ctx.store.transaction(async (tx) => {
      const job = await tx.jobs.get(jobId);
      if (!job) throw jobNotFound(jobId);
      const key = { jobId, thingName, executionNumber: executionNumber! };
      // A compare-and-set like every transition: when the row changed between read and delete,
      // read it again and judge what is there now.
      for (let attempt = 0; ; attempt++) {
        const row = await tx.jobExecutions.lock(key);
        if (!row) throw executionNotFound(jobId, thingName, executionNumber);
        checkDeletable(executionState(row), force);
        if (await this.executions.delete(tx, row, job)) return;
        if (attempt >= 5) throw new Error(`execution ${executionNumber} of ${jobId} on ${thingName} kept changing under DeleteJobExecution`);
      }
    });
    return {};
  }
}
