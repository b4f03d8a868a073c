import type { JobExecutionRow } from '../../store/job-executions.js';
import type { Store } from '../../store/store.js';

/**
 * A thing's pending list as devices see it (jobs.md §9, §10.3): IN_PROGRESS executions first, then
 * QUEUED ones, each in queue order; the front is its first entry. QUEUED executions of a SCHEDULED
 * job (before its start, between maintenance windows) are left out (§6); an execution a device has
 * already started stays in view.
 */
export const JOB_STATUSES_HIDING_QUEUED: readonly string[] = ['SCHEDULED'];

export interface PendingList {
  inProgress: JobExecutionRow[];
  queued: JobExecutionRow[];
}

function split(rows: JobExecutionRow[]): PendingList {
  const at = rows.findIndex((r) => r.status !== 'IN_PROGRESS');
  return at < 0 ? { inProgress: rows, queued: [] } : { inProgress: rows.slice(0, at), queued: rows.slice(at) };
}

export async function pendingList(store: Store, thingName: string, namespaceId: string, limit: number): Promise<PendingList> {
  // One query for both parts: the pending list is read on every device request and notification.
  return split(await store.pendingLists.ofThing(thingName, namespaceId, limit, JOB_STATUSES_HIDING_QUEUED));
}

/** The pending lists of many things in one namespace, from one read (a burst of notifications). */
export async function pendingLists(store: Store, thingNames: string[], namespaceId: string, limit: number): Promise<Map<string, PendingList>> {
  const rows = await store.pendingLists.ofThings(thingNames, namespaceId, limit, JOB_STATUSES_HIDING_QUEUED);
  return new Map(thingNames.map((t) => [t, split(rows.get(t) ?? [])]));
}

export async function frontOf(store: Store, thingName: string, namespaceId: string): Promise<JobExecutionRow | undefined> {
  const { inProgress, queued } = await pendingList(store, thingName, namespaceId, 1);
  return inProgress[0] ?? queued[0];
}
