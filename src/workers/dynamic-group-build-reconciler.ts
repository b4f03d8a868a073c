import type { DynamicGroupService } from '../domain/indexing/dynamic-group-service.js';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { Reconciler } from './engine.js';

/**
 * Dynamic thing groups' membership sweeps (domain/indexing/dynamic-group-service.ts `step`) on
 * every node's engine: one node at a time holds the lease and takes one batch of one building group
 * per step, in one transaction that re-reads the group locked, so a step another node takes over
 * carries on from the group's own cursor, and a newer query (its generation) wins over an older sweep.
 */
export function dynamicGroupBuild(deps: { store: Store; clock: Clock; groups: DynamicGroupService; holder: string; leaseMs: number }): Reconciler {
  const { store, clock } = deps;
  return {
    name: 'dynamic-group-build',
    async run() {
      const isDue = (g: { build_done: number | null; build_not_before: number | null }) => g.build_done !== 1 || clock.now() >= Number(g.build_not_before ?? 0);
      const dueGroups = (await store.dynamicGroups.building()).filter(isDue);
      const due = dueGroups[0];
      if (!due) return false;
      const now = Date.now();
      if (!(await store.leases.claim('dynamic-group-build', deps.holder, now, now + deps.leaseMs))) return false;
      const more = await deps.groups.step(due.group_name);
      // Another building group may be due at once, even when this one's sweep waits for its delay.
      return more || dueGroups.length > 1;
    },
    async nextDueAt() {
      const waiting = (await store.dynamicGroups.building()).filter((g) => g.build_done === 1).map((g) => Number(g.build_not_before ?? 0));
      return waiting.length > 0 ? Math.min(...waiting) : undefined;
    },
  };
}
