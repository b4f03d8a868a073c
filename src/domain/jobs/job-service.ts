import type { JobRow } from '../../store/jobs.js';
import type { DomainContext } from '../context.js';
import { DomainError, invalidRequest } from '../errors.js';
import { decodeToken, page, pageSize } from '../pagination.js';
import { FieldErrors } from '../validation.js';
import type { ExecutionBulk } from './execution-bulk.js';
import { checkCancellable, checkDeletable, checkTargetsAssociable, checkUpdatable } from './job-lifecycle.js';
import type { JobLifecycleService } from './job-lifecycle-service.js';
import type { WorkSignal } from './job-domain.js';
import type { JobRollout } from './job-rollout.js';
import { checkJobConfigs, checkRetryConfigUpdate, type JobExecutionsRetryConfig } from './job-config-rules.js';
import { fanOutTargets, groupPaths, resolveTargets } from './job-creation.js';
import {
  checkComment,
  checkDescription,
  checkFlag,
  checkJobId,
  checkNamespaceId,
  checkReasonCode,
  checkTargetsList,
  JOB_STATUSES,
  jobNotFound,
  MAX_DELETIONS_IN_PROGRESS,
  MAX_TARGETS,
  parseTarget,
  TARGET_SELECTIONS,
} from './job-rules.js';
import { jobSummaryView, jobView, parseJson, rolloutState } from './job-views.js';

const isJobCursor = (k: unknown): k is [number, string] => Array.isArray(k) && k.length === 2 && typeof k[0] === 'number' && typeof k[1] === 'string';

/** Runs a job's deletion after DeleteJob has answered (default: on the next turn of the event loop). */
export type DeletionScheduler = (run: () => Promise<void>) => void;

/**
 * The job control plane apart from CreateJob (jobs.md §2, §8): describe, document, update, cancel,
 * delete, list, associate targets. Execution changes all go through ExecutionService.
 */
export class JobService {
  private readonly pendingDeletions = new Set<Promise<void>>();

  constructor(
    private readonly ctx: DomainContext,
    private readonly jobs: { bulk: ExecutionBulk; lifecycle: JobLifecycleService; rollout: JobRollout; workDue: WorkSignal },
    private readonly scheduleDeletion: DeletionScheduler = (run) => setImmediate(() => void run()),
    /** Told when a background deletion fails; it is retried, and resumed again at the next start. */
    private readonly reportDeletionFailure: (jobId: string, err: unknown, attempt: number) => void = () => undefined,
  ) {}

  private async requireJob(jobId: string): Promise<JobRow> {
    const row = await this.ctx.store.jobs.get(jobId);
    if (!row) throw jobNotFound(jobId);
    return row;
  }

  async describeJob(input: { jobId?: unknown; beforeSubstitution?: unknown }) {
    const errors = new FieldErrors('InvalidRequestException');
    const jobId = checkJobId(errors, input.jobId);
    const before = checkFlag(errors, input.beforeSubstitution, 'beforeSubstitution');
    errors.throwIfAny();
    const row = await this.requireJob(jobId);
    const rollout = rolloutState(row, await this.ctx.store.jobRollouts.get(jobId), await this.ctx.store.jobs.targets(jobId));
    return { ...(row.document_source !== null ? { documentSource: row.document_source } : {}), job: jobView(row, this.ctx.arns, before, this.ctx.clock.now(), rollout) };
  }

  /** Parameters and package placeholders resolved unless beforeSubstitution; presigned URLs never (§7.6). */
  async getJobDocument(input: { jobId?: unknown; beforeSubstitution?: unknown }) {
    const errors = new FieldErrors('InvalidRequestException');
    const jobId = checkJobId(errors, input.jobId);
    const before = checkFlag(errors, input.beforeSubstitution, 'beforeSubstitution');
    errors.throwIfAny();
    const row = await this.requireJob(jobId);
    return { document: (before ? row.raw_document : row.document) ?? '' };
  }

  /** UpdateJob: IN_PROGRESS jobs only; each member given replaces the stored one whole (§2.6). */
  async updateJob(input: Record<string, unknown>): Promise<Record<string, never>> {
    const errors = new FieldErrors('InvalidRequestException');
    const jobId = checkJobId(errors, input.jobId);
    const description = checkDescription(errors, input.description);
    checkNamespaceId(errors, input.namespaceId);
    errors.throwIfAny();
    const members = ['description', 'presignedUrlConfig', 'jobExecutionsRolloutConfig', 'abortConfig', 'timeoutConfig', 'jobExecutionsRetryConfig'];
    const configs = checkJobConfigs(errors, { ...input, schedulingConfig: undefined }, this.ctx.clock.now(), { forTemplate: false, forUpdate: true });
    errors.throwIfAny();
    return this.ctx.store.transaction(async (tx) => {
      const row = await tx.jobs.getForUpdate(jobId);
      if (!row) throw jobNotFound(jobId);
      if (!members.some((m) => input[m] !== undefined)) throw invalidRequest(`Update Job request for job ${jobId} cannot be empty.`);
      checkUpdatable(jobId, row.status);
      if (configs.jobExecutionsRetryConfig) {
        checkRetryConfigUpdate(parseJson<JobExecutionsRetryConfig>(row.retry_config), configs.jobExecutionsRetryConfig);
      }
      const patch: Partial<JobRow> = { last_updated_at: this.ctx.clock.now() };
      if (description !== undefined) patch.description = description;
      if (configs.presignedUrlConfig) patch.presigned_url_config = JSON.stringify(configs.presignedUrlConfig);
      if (configs.jobExecutionsRolloutConfig) patch.rollout_config = JSON.stringify(configs.jobExecutionsRolloutConfig);
      if (configs.abortConfig) patch.abort_config = JSON.stringify(configs.abortConfig);
      // Reaches only executions that start after now: running ones keep their stored deadline.
      if (configs.timeoutConfig) patch.timeout_config = JSON.stringify(configs.timeoutConfig);
      if (configs.jobExecutionsRetryConfig) patch.retry_config = JSON.stringify(configs.jobExecutionsRetryConfig);
      await tx.jobs.update(jobId, patch);
      // A new pace applies from the engine's next look, which is now.
      if (configs.jobExecutionsRolloutConfig) {
        await tx.jobRollouts.dueBy(jobId, this.ctx.clock.now());
        tx.afterCommit(() => this.jobs.workDue.notify());
      }
      return {};
    });
  }

  /**
   * CancelJob (§2.4): the job becomes CANCELED at once, QUEUED executions (and with force the
   * IN_PROGRESS ones) with it. A CANCELED job that was not force-cancelled may be cancelled again
   * with force (§14 #11).
   */
  async cancelJob(input: { jobId?: unknown; force?: unknown; reasonCode?: unknown; comment?: unknown }) {
    const errors = new FieldErrors('InvalidRequestException');
    const jobId = checkJobId(errors, input.jobId);
    const force = checkFlag(errors, input.force, 'force');
    const reasonCode = checkReasonCode(errors, input.reasonCode);
    const comment = checkComment(errors, input.comment);
    errors.throwIfAny();
    return this.ctx.store.transaction(async (tx) => {
      // Executions are written before the job row everywhere, so the job row is not locked first.
      const row = await tx.jobs.get(jobId);
      if (!row) throw jobNotFound(jobId);
      checkCancellable(jobId, { status: row.status, forceCanceled: row.force_canceled === 1 }, force);
      await this.jobs.lifecycle.cancel(tx, row, { force, reasonCode, comment });
      return { jobArn: this.ctx.arns.job(jobId), jobId, ...(row.description !== null ? { description: row.description } : {}) };
    });
  }

  /**
   * DeleteJob (§2.5): DELETION_IN_PROGRESS now, gone (with every execution) shortly after. Without
   * force only COMPLETED and CANCELED jobs; at most 10 deletions at once.
   */
  async deleteJob(input: { jobId?: unknown; force?: unknown; namespaceId?: unknown }): Promise<Record<string, never>> {
    const errors = new FieldErrors('InvalidRequestException');
    const jobId = checkJobId(errors, input.jobId);
    const force = checkFlag(errors, input.force, 'force');
    checkNamespaceId(errors, input.namespaceId);
    errors.throwIfAny();
    await this.ctx.store.transaction(async (tx) => {
      const row = await tx.jobs.getForUpdate(jobId);
      if (!row) throw jobNotFound(jobId);
      checkDeletable(jobId, row.status, force);
      if ((await tx.jobs.countByStatus('DELETION_IN_PROGRESS')) >= MAX_DELETIONS_IN_PROGRESS) {
        throw new DomainError('LimitExceededException', `At most ${MAX_DELETIONS_IN_PROGRESS} jobs can be in DELETION_IN_PROGRESS status at once.`);
      }
      await tx.jobs.update(jobId, { status: 'DELETION_IN_PROGRESS', last_updated_at: this.ctx.clock.now() });
    });
    this.scheduleDeletion(() => this.track(this.finishDeletionWithRetries(jobId)));
    return {};
  }

  private track(p: Promise<void>): Promise<void> {
    const tracked = p.finally(() => this.pendingDeletions.delete(tracked));
    this.pendingDeletions.add(tracked);
    return tracked;
  }

  /**
   * A failed deletion must not stay silently DELETION_IN_PROGRESS (it counts against the limit of
   * 10): report it and try again a few times; what still fails is resumed at the next start.
   */
  private async finishDeletionWithRetries(jobId: string, attempts = 3): Promise<void> {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await this.finishDeletion(jobId);
        return;
      } catch (err) {
        this.reportDeletionFailure(jobId, err, attempt);
      }
    }
  }

  /** Removes a DELETION_IN_PROGRESS job, its executions, targets and tags. */
  async finishDeletion(jobId: string): Promise<void> {
    await this.ctx.store.transaction(async (tx) => {
      const row = await tx.jobs.get(jobId);
      if (!row || row.status !== 'DELETION_IN_PROGRESS') return;
      await this.jobs.bulk.deleteAllOfJob(tx, jobId);
      await tx.jobs.delete(jobId);
      await tx.tags.removeAll(this.ctx.arns.job(jobId));
    });
  }

  /** Waits for deletions under way (clean shutdown). */
  async drain(): Promise<void> {
    while (this.pendingDeletions.size > 0) await Promise.all([...this.pendingDeletions]);
  }

  /** ListJobs: newest first, with every filter (§8). */
  async listJobs(input: Record<string, unknown>) {
    const errors = new FieldErrors('InvalidRequestException');
    const status = errors.string(input.status, 'status', { enum: JOB_STATUSES });
    const targetSelection = errors.string(input.targetSelection, 'targetSelection', { enum: TARGET_SELECTIONS });
    const thingGroupName = errors.string(input.thingGroupName, 'thingGroupName', { min: 1, max: 128, pattern: /^[a-zA-Z0-9:_-]+$/, patternText: '[a-zA-Z0-9:_-]+' });
    const thingGroupId = errors.string(input.thingGroupId, 'thingGroupId', { min: 1, max: 128, pattern: /^[a-zA-Z0-9-]+$/, patternText: '[a-zA-Z0-9\\-]+' });
    const namespaceId = checkNamespaceId(errors, input.namespaceId);
    const limit = pageSize(errors, input.maxResults, 250);
    const token = errors.string(input.nextToken, 'nextToken');
    errors.throwIfAny();
    const list = `jobs:${JSON.stringify([status, targetSelection, thingGroupName, thingGroupId, namespaceId])}`;
    const cursor = decodeToken(list, token, 'InvalidRequestException', isJobCursor);
    const rows = await this.ctx.store.jobs.list(
      { status, targetSelection, thingGroupName, thingGroupId, namespaceId },
      cursor && { createdAt: cursor[0], jobId: cursor[1] },
      limit + 1,
    );
    const { items, nextToken } = page(rows, limit, list, (r) => [Number(r.created_at), r.job_id]);
    const groupIds = await this.ctx.store.jobs.firstGroupIds(items.map((r) => r.job_id));
    const rollouts = await this.ctx.store.jobRollouts.getMany(items.map((r) => r.job_id));
    return {
      jobs: items.map((r) => jobSummaryView(r, this.ctx.arns, groupIds.get(r.job_id), rolloutState(r, rollouts.get(r.job_id)).isConcurrent)),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  /**
   * AssociateTargetsWithJob (§2.2): more targets for an IN_PROGRESS CONTINUOUS job, ≤ 100 in all;
   * things they reach that have no execution of the job get one.
   */
  async associateTargetsWithJob(input: { jobId?: unknown; targets?: unknown; comment?: unknown; namespaceId?: unknown }) {
    const errors = new FieldErrors('InvalidRequestException');
    const jobId = checkJobId(errors, input.jobId);
    const targetArns = checkTargetsList(errors, input.targets);
    const comment = checkComment(errors, input.comment);
    checkNamespaceId(errors, input.namespaceId);
    errors.throwIfAny();
    const targets = targetArns!.map((arn) => parseTarget(this.ctx.arns, arn));
    const thing = targets.find((t) => t.type === 'thing');
    if (thing) throw invalidRequest(`AssociateTargetsWithJob takes thing group ARNs only; ${thing.arn} is a thing.`);
    return this.ctx.store.transaction(async (tx) => {
      // Locked: two concurrent calls would otherwise number their targets from the same count.
      const row = await tx.jobs.getForUpdate(jobId);
      if (!row) throw jobNotFound(jobId);
      checkTargetsAssociable(jobId, { status: row.status, targetSelection: row.target_selection });
      const existing = JSON.parse(row.targets) as string[];
      const added = targets.filter((t, i) => !existing.includes(t.arn) && targets.findIndex((o) => o.arn === t.arn) === i);
      if (existing.length + added.length > MAX_TARGETS) {
        throw new DomainError('LimitExceededException', `A job can have at most ${MAX_TARGETS} targets.`);
      }
      const rows = await resolveTargets(tx, jobId, added, existing.length);
      await tx.jobs.addTargets(rows);
      await tx.jobs.update(jobId, {
        targets: JSON.stringify([...existing, ...added.map((t) => t.arn)]),
        last_updated_at: this.ctx.clock.now(),
        ...(comment !== undefined ? { comment } : {}),
      });
      // Paced like the job's first targets; things that already have an execution are left out.
      if (rows.length > 0) await this.jobs.rollout.enqueue(tx, row, fanOutTargets(rows, await groupPaths(tx, rows)), { skipExisting: true });
      return { jobArn: this.ctx.arns.job(jobId), jobId, ...(row.description !== null ? { description: row.description } : {}) };
    });
  }
}
