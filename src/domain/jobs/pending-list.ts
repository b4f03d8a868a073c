import type { JobExecutionRow } from '../../store/job-executions.js';
import type { Store } from '../../store/store.js';

/**
 * A thing's pending list as devices see it (jobs.md §9, §10.3): IN_PROGRESS executions first, then
 * QUEUED ones, each in queue order; the front is its first entry. QUEUED executions of a SCHEDULED
 * job (before its start, between maintenance windows) are left out (§6); an execution a device has
 * already started stays in view.
 */
export const JOB_STATUSES_HIDING_QUEUED: readonly string[] = ['SCHEDULED'];

export async function pendingList(store: Store, thingName: string, namespaceId: string, limit: number): Promise<{ inProgress: JobExecutionRow[]; queued: JobExecutionRow[] }> {
  // One query for both parts: the pending list is read on every device request and notification.
  const rows = await store.jobExecutions.pendingOfThing(thingName, namespaceId, limit, JOB_STATUSES_HIDING_QUEUED);
  const split = rows.findIndex((r) => r.status !== 'IN_PROGRESS');
  return split < 0 ? { inProgress: rows, queued: [] } : { inProgress: rows.slice(0, split), queued: rows.slice(split) };
}

export async function frontOf(store: Store, thingName: string, namespaceId: string): Promise<JobExecutionRow | undefined> {
  const { inProgress, queued } = await pendingList(store, thingName, namespaceId, 1);
  return inProgress[0] ?? queued[0];
}
