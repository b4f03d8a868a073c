import type { JobExecutionRow } from '../../store/job-executions.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import type { MembershipChange, MembershipListener } from '../things/membership-events.js';
import type { ExecutionService } from './execution-service.js';
import { applyRemove, isPending, PENDING_STATUSES } from './execution-state-machine.js';
import { executionState } from './job-views.js';

/** Every group on the paths of the given groups ('/a/b/' → a, b), plus the names themselves. */
async function groupsAndAncestors(tx: Store, groupNames: string[]): Promise<string[]> {
  const names = new Set(groupNames);
  for (const g of await tx.thingGroups.getMany(groupNames)) for (const part of g.path.split('/')) if (part) names.add(part);
  return [...names];
}

/**
 * Keeps executions in step with the registry (jobs.md §2.3), inside the registry's transaction:
 * - a thing joining a target group (or a descendant of one) of an IN_PROGRESS CONTINUOUS job gets a
 *   new QUEUED execution unless one is pending (executionNumber = previous + 1);
 * - a QUEUED execution whose thing left every target group becomes REMOVED (SNAPSHOT jobs do not
 *   react, §14 #3);
 * - a deleted thing's pending executions become REMOVED, which lets a SNAPSHOT job complete (§14 #2).
 * Each change first asks which CONTINUOUS jobs target the groups (or their ancestors) once; with
 * none — the common case — nothing else is read.
 */
export class ContinuousJobMembership implements MembershipListener {
  constructor(
    private readonly ctx: DomainContext,
    private readonly executions: ExecutionService,
  ) {}

  async membershipChanged(tx: Store, thingName: string, change: MembershipChange): Promise<void> {
    // One look first, for both sides: with no CONTINUOUS job on any of the groups (the common case,
    // and every dynamic group's churn without one) nothing else is read.
    if (change.continuousJobs !== undefined && change.continuousJobs.length === 0) return;
    const named = [...change.left, ...change.joined];
    if ((await tx.jobs.continuousJobsTargetingGroups(change.rootsOnly ? named : await groupsAndAncestors(tx, named))).length === 0) return;
    // Leaving first: it locks executions before job rows, the order every transition keeps; joining
    // then locks job rows, which nothing holds while waiting for an execution.
    if (change.left.length > 0) await this.left(tx, change.left, [thingName]);
    if (change.joined.length > 0) await this.joined(tx, change.joined, [thingName]);
  }

  /** A dynamic group's sweep: a batch of things joined one group; the jobs concerned are looked up once. */
  async membersJoined(tx: Store, groupName: string, thingNames: string[]): Promise<void> {
    await this.joined(tx, [groupName], thingNames);
  }

  private async joined(tx: Store, groupNames: string[], thingNames: string[]): Promise<void> {
    for (const { job_id } of await tx.jobs.continuousJobsTargetingGroups(await groupsAndAncestors(tx, groupNames))) {
      // Locked, so a CancelJob committing meanwhile is seen: a cancelled job gets no new execution.
      const job = await tx.jobs.getForUpdate(job_id);
      if (!job || job.status !== 'IN_PROGRESS') continue;
      for (const thingName of thingNames) {
        const latest = await tx.jobExecutions.latest(job_id, thingName);
        if (latest && isPending(latest.status)) continue;
        await this.executions.create(tx, job, thingName, latest ? Number(latest.execution_number) + 1 : 1);
      }
    }
  }

  /** DeleteThingGroup: a batch of members left one group; the jobs concerned are looked up once. */
  async membersLeft(tx: Store, groupName: string, thingNames: string[]): Promise<void> {
    await this.left(tx, [groupName], thingNames);
  }

  /** `thingNames` left `groupNames`: their QUEUED executions of jobs no longer targeting them become REMOVED. */
  private async left(tx: Store, groupNames: string[], thingNames: string[]): Promise<void> {
    const jobs = await tx.jobs.continuousJobsTargetingGroups(await groupsAndAncestors(tx, groupNames));
    if (jobs.length === 0) return;
    for (const { job_id } of jobs) {
      // A thing not released yet has no execution: it simply leaves the rollout queue.
      const rollout = await tx.jobRollouts.get(job_id);
      if (rollout && Number(rollout.released) < Number(rollout.total)) await this.dropUnreleased(tx, job_id, Number(rollout.released), thingNames);
      // A thing's pending execution of a job is always its latest one, so QUEUED rows are exactly
      // the "latest is QUEUED" executions.
      const queued = await tx.jobExecutions.queuedOfJobForThings(job_id, thingNames);
      if (queued.length === 0) continue;
      const job = await tx.jobs.get(job_id);
      if (!job) continue;
      const stillTargeted = await this.stillTargeted(tx, job_id, queued);
      const now = this.ctx.clock.now();
      for (const row of queued) {
        if (stillTargeted.has(row.thing_name)) continue;
        // Only a QUEUED execution is removed; one its device started meanwhile runs on.
        await this.executions.applyFresh(tx, row, job, (current) => (current.status === 'QUEUED' ? applyRemove(executionState(current), now) : undefined));
      }
    }
  }

  /** Unreleased queue entries of things no longer targeted go; a thing still in another target group stays queued. */
  private async dropUnreleased(tx: Store, jobId: string, releasedUpTo: number, thingNames: string[]): Promise<void> {
    const still = await this.stillTargeted(tx, jobId, thingNames);
    await tx.jobRollouts.dropUnreleased(jobId, releasedUpTo, thingNames.filter((n) => !still.has(n)));
  }

  /** The things of `rows` that are a target themselves or in the tree of any of the job's target groups. */
  private async stillTargeted(tx: Store, jobId: string, rows: (JobExecutionRow | string)[]): Promise<Set<string>> {
    const names = rows.map((r) => (typeof r === 'string' ? r : r.thing_name));
    const still = new Set<string>();
    for (const t of await tx.jobs.targets(jobId)) {
      const open = names.filter((name) => !still.has(name));
      if (open.length === 0) break;
      if (t.target_type === 'thing') {
        if (open.includes(t.target_name)) still.add(t.target_name);
      } else {
        for (const name of await tx.thingGroups.thingsInGroupTree(open, t.target_name)) still.add(name);
      }
    }
    return still;
  }

  async thingDeleted(tx: Store, thingName: string): Promise<void> {
    const now = this.ctx.clock.now();
    for (const row of await tx.jobExecutions.ofThingInStatuses(thingName, PENDING_STATUSES)) {
      const job = await tx.jobs.get(row.job_id);
      if (!job) continue;
      await this.executions.applyFresh(tx, row, job, (current) => applyRemove(executionState(current), now));
    }
  }
}
