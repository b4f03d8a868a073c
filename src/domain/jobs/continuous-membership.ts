import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import type { MembershipListener } from '../things/membership-events.js';
import type { ExecutionService } from './execution-service.js';
import { applyRemove, isPending } from './execution-state-machine.js';
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
 */
export class ContinuousJobMembership implements MembershipListener {
  constructor(
    private readonly ctx: DomainContext,
    private readonly executions: ExecutionService,
  ) {}

  async membershipChanged(tx: Store, thingName: string, change: { joined: string[]; left: string[] }): Promise<void> {
    if (change.joined.length > 0) {
      for (const { job_id } of await tx.jobs.continuousJobsTargetingGroups(await groupsAndAncestors(tx, change.joined))) {
        const job = await tx.jobs.get(job_id);
        if (!job) continue;
        const latest = await tx.jobExecutions.latest(job_id, thingName);
        if (latest && isPending(latest.status)) continue;
        await this.executions.create(tx, job, thingName, latest ? Number(latest.execution_number) + 1 : 1);
      }
    }
    if (change.left.length > 0) {
      for (const { job_id } of await tx.jobs.continuousJobsTargetingGroups(await groupsAndAncestors(tx, change.left))) {
        const latest = await tx.jobExecutions.latest(job_id, thingName);
        if (!latest || latest.status !== 'QUEUED') continue;
        if (await this.stillTargeted(tx, job_id, thingName)) continue;
        const job = await tx.jobs.get(job_id);
        if (!job) continue;
        await this.executions.apply(tx, latest, job, applyRemove(executionState(latest), this.ctx.clock.now()));
      }
    }
  }

  /** True while the thing is a target itself or in the tree of any of the job's target groups. */
  private async stillTargeted(tx: Store, jobId: string, thingName: string): Promise<boolean> {
    for (const t of await tx.jobs.targets(jobId)) {
      if (t.target_type === 'thing' ? t.target_name === thingName : await tx.thingGroups.isThingInGroupTree(thingName, t.target_name)) return true;
    }
    return false;
  }

  async thingDeleted(tx: Store, thingName: string): Promise<void> {
    const now = this.ctx.clock.now();
    for (const row of await tx.jobExecutions.ofThingInStatuses(thingName, ['QUEUED', 'IN_PROGRESS'])) {
      const job = await tx.jobs.get(row.job_id);
      if (!job) continue;
      await this.executions.apply(tx, row, job, applyRemove(executionState(row), now));
    }
  }
}
