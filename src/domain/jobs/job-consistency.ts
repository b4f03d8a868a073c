import type { JobRow } from '../../store/jobs.js';
import type { Store } from '../../store/store.js';
import { EXECUTION_STATUSES, type JobExecutionStatus } from './execution-state-machine.js';
import { jobProcessDetails } from './job-views.js';

/**
 * `fleetjobs check`: a job's counters (jobProcessDetails) are kept exact by every transition, but
 * a database written by an older fleetjobs, or edited by hand, may disagree with its executions.
 * This finds each job whose counters differ from a count of its executions by status, and each
 * SNAPSHOT job left IN_PROGRESS with nothing pending, and repairs them when asked.
 */

/** The jobProcessDetails member of each execution status, as DescribeJob names it. */
const MEMBER: Record<JobExecutionStatus, keyof ReturnType<typeof jobProcessDetails>> = {
  QUEUED: 'numberOfQueuedThings',
  IN_PROGRESS: 'numberOfInProgressThings',
  SUCCEEDED: 'numberOfSucceededThings',
  FAILED: 'numberOfFailedThings',
  REJECTED: 'numberOfRejectedThings',
  CANCELED: 'numberOfCanceledThings',
  REMOVED: 'numberOfRemovedThings',
  TIMED_OUT: 'numberOfTimedOutThings',
};

const PAGE = 500;

export interface CounterMismatch {
  member: string;
  recorded: number;
  actual: number;
}

export interface JobFinding {
  jobId: string;
  status: string;
  mismatches: CounterMismatch[];
  /** A SNAPSHOT job still IN_PROGRESS although none of its executions is pending. */
  shouldHaveCompleted: boolean;
}

function inspect(job: JobRow, counts: Record<string, number>): JobFinding | undefined {
  const recorded = jobProcessDetails(job);
  const mismatches: CounterMismatch[] = [];
  for (const status of EXECUTION_STATUSES) {
    const actual = counts[status] ?? 0;
    if (recorded[MEMBER[status]] !== actual) mismatches.push({ member: MEMBER[status], recorded: recorded[MEMBER[status]], actual });
  }
  const pending = (counts.QUEUED ?? 0) + (counts.IN_PROGRESS ?? 0);
  const shouldHaveCompleted = job.target_selection === 'SNAPSHOT' && job.status === 'IN_PROGRESS' && pending === 0;
  return mismatches.length > 0 || shouldHaveCompleted ? { jobId: job.job_id, status: job.status, mismatches, shouldHaveCompleted } : undefined;
}

export class JobConsistency {
  /** Jobs looked at by the last `findings()` run so far. */
  checked = 0;

  constructor(
    private readonly store: Store,
    /** The job lifecycle's completion (JobLifecycleService.completeIfDone). */
    private readonly completeIfDone: (tx: Store, job: JobRow) => Promise<boolean>,
  ) {}

  /** Every job that disagrees with its executions, page by page of job ids. */
  async *findings(): AsyncGenerator<JobFinding> {
    let after: string | undefined;
    this.checked = 0;
    for (;;) {
      const ids = await this.store.jobs.idsAfter(after, PAGE);
      for (const id of ids) {
        this.checked++;
        const job = await this.store.jobs.get(id);
        if (!job) continue;
        const finding = inspect(job, await this.store.jobExecutions.countByStatus(id));
        if (finding) yield finding;
      }
      if (ids.length < PAGE) return;
      after = ids[ids.length - 1];
    }
  }

  /**
   * Recounts one job in one transaction with one snapshot: the job row locked first, its
   * executions counted, and its counters set so that row + shards equal the count. A transition
   * committing meanwhile adds its own delta to a shard afterwards, so the recount stays exact while
   * devices report. Returns what was wrong, or undefined when the job agreed (or is gone).
   */
  async repair(jobId: string): Promise<JobFinding | undefined> {
    return this.store.transaction(async (tx) => {
      const job = await tx.jobs.getForUpdate(jobId);
      if (!job) return undefined;
      const counts = await tx.jobExecutions.countByStatus(jobId);
      const finding = inspect(job, counts);
      if (!finding) return undefined;
      const byStatus: Partial<Record<JobExecutionStatus, number>> = {};
      for (const status of EXECUTION_STATUSES) byStatus[status] = counts[status] ?? 0;
      await tx.jobs.setCountersWithShards(jobId, byStatus);
      const repaired = await tx.jobs.get(jobId);
      if (repaired) await this.completeIfDone(tx, repaired);
      return finding;
    }, { snapshot: true });
  }
}
