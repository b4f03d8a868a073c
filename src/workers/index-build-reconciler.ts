import type { IndexBuild } from '../domain/indexing/index-build.js';
import type { Store } from '../store/store.js';
import type { Reconciler } from './engine.js';

/**
 * The fleet index's build (domain/indexing/index-build.ts) on every node's engine: one node at a
 * time holds the lease and walks the shadows; the build's own progress row (and its generation
 * check) makes a step taken over by another node carry on where the last one stopped.
 */
export function indexBuild(deps: { store: Store; build: IndexBuild; holder: string; leaseMs: number }): Reconciler {
  return {
    name: 'fleet-index-build',
    async run() {
      if (!(await deps.build.underWay())) return false;
      const now = Date.now();
      if (!(await deps.store.leases.claim('fleet-index-build', deps.holder, now, now + deps.leaseMs))) return false;
      return deps.build.step();
    },
    nextDueAt: () => deps.build.nextDueAt(),
  };
}
