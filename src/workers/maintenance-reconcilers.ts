import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { IDEMPOTENCY_WINDOW_MS } from '../domain/idempotency.js';
import type { JobService } from '../domain/jobs/job-service.js';
import type { Store } from '../store/store.js';
import type { Reconciler } from './engine.js';
import type { SbomValidationWorker } from './sbom-validation-worker.js';

/**
 * Work that once ran only where it started (a node's memory, or its start-up) and now runs on the
 * engine of every node, claimed through the database (decision 0013).
 */

/** SBOM validations no node holds (its node died, or it was never taken) join this node's queue. */
export function sbomValidations(deps: { store: Store; worker: SbomValidationWorker }): Reconciler {
  return {
    name: 'sbom-validations',
    async run() {
      for (const r of await deps.store.sbomValidations.unclaimed(Date.now(), 100)) {
        deps.worker.enqueue({ packageName: r.package_name, versionName: r.version_name, generation: Number(r.sbom_generation) });
      }
      return false;
    },
    nextDueAt: async () => undefined,
  };
}

/**
 * Jobs left DELETION_IN_PROGRESS for longer than a lease (the node that accepted the DeleteJob
 * died, or its deletion failed) are finished here; a deletion is one transaction that checks the
 * status first, so a node doing it twice changes nothing the second time.
 */
export function jobDeletions(deps: { store: Store; clock: Clock; jobs: JobService; leaseMs: number; log: Logger }): Reconciler {
  return {
    name: 'job-deletions',
    async run() {
      for (const jobId of await deps.store.jobs.idsInStatusSince('DELETION_IN_PROGRESS', deps.clock.now() - deps.leaseMs)) {
        try {
          await deps.jobs.finishDeletion(jobId);
        } catch (err) {
          deps.log.error({ err, jobId }, 'job deletion failed; it is tried again');
        }
      }
      return false;
    },
    nextDueAt: async () => undefined,
  };
}

/** Idempotency records past AWS's window are deleted by one node at a time, every ten minutes. */
export function idempotencyPurge(deps: { store: Store; clock: Clock; holder: string; everyMs?: number }): Reconciler {
  const every = deps.everyMs ?? 10 * 60_000;
  return {
    name: 'idempotency-purge',
    async run() {
      const now = Date.now();
      if (!(await deps.store.leases.claim('idempotency-purge', deps.holder, now, now + every))) return false;
      await deps.store.idempotency.purgeOlderThan(deps.clock.now() - IDEMPOTENCY_WINDOW_MS);
      return false;
    },
    nextDueAt: async () => undefined,
  };
}
