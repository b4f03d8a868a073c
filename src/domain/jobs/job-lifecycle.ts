import { DomainError, invalidRequest } from '../errors.js';
import type { AbortConfig, AbortCriteria, JobExecutionsRetryConfig } from './job-config-rules.js';
import { currentMaintenanceWindow, nextMaintenanceWindowStarts, type MaintenanceWindow } from './schedule-time.js';
import { schedulingTimes, type JobEndBehavior, type SchedulingConfig } from './schedule-rules.js';
import type { JobExecutionStatus } from './execution-state-machine.js';

/**
 * THE job lifecycle (jobs.md §2, §4–6): SCHEDULED ⇄ IN_PROGRESS → COMPLETED | CANCELED →
 * DELETION_IN_PROGRESS, with scheduling, endBehavior, abort, retries and completion. Pure, like
 * the execution state machine: every door (the control plane, the engine, a device's terminal
 * update) asks here and has JobLifecycleService carry the answer out inside its transaction.
 */

export type JobStatus = 'IN_PROGRESS' | 'SCHEDULED' | 'CANCELED' | 'COMPLETED' | 'DELETION_IN_PROGRESS';

/** Jobs that still deploy what they target (a package version they name is in use). */
export const DEPLOYING_STATUSES: readonly JobStatus[] = ['IN_PROGRESS', 'SCHEDULED'];

export type ExecutionCounts = Record<JobExecutionStatus, number>;

// ---- Scheduling ----

export interface JobSchedule {
  startMs?: number;
  endMs?: number;
  endBehavior?: JobEndBehavior;
  windows: MaintenanceWindow[];
}

export function jobSchedule(config: SchedulingConfig | undefined): JobSchedule {
  const { startMs, endMs } = schedulingTimes(config);
  return { startMs, endMs, endBehavior: config?.endBehavior, windows: config?.maintenanceWindows ?? [] };
}

export interface SchedulePhase {
  /** What the job's status is at this moment, as far as its schedule decides. */
  status: 'SCHEDULED' | 'IN_PROGRESS';
  /** endTime has passed: endBehavior applies, once. */
  ended: boolean;
  /** The next moment the answer can change (startTime, a window edge, endTime). */
  nextEdgeAt?: number;
}

/**
 * Only a startTime or maintenance windows make a job wait (§2.1): before startTime it is
 * SCHEDULED; with windows it is IN_PROGRESS inside one and SCHEDULED between them (UTC, §5).
 */
export function schedulePhase(s: JobSchedule, now: number): SchedulePhase {
  const ended = s.endMs !== undefined && now >= s.endMs;
  const cap = (at: number | undefined) => (at === undefined ? s.endMs : s.endMs === undefined ? at : Math.min(at, s.endMs));
  if (ended) return { status: 'IN_PROGRESS', ended, nextEdgeAt: undefined };
  if (s.startMs !== undefined && now < s.startMs) return { status: 'SCHEDULED', ended, nextEdgeAt: cap(s.startMs) };
  if (s.windows.length === 0) return { status: 'IN_PROGRESS', ended, nextEdgeAt: cap(undefined) };
  const open = currentMaintenanceWindow(s.windows, now);
  if (open) return { status: 'IN_PROGRESS', ended, nextEdgeAt: cap(open.endMs) };
  const next = nextMaintenanceWindowStarts(s.windows, now, 1)[0];
  return { status: 'SCHEDULED', ended, nextEdgeAt: cap(next?.startMs) };
}

/** The status CreateJob gives a job: its schedule's phase now. */
export function initialStatus(s: JobSchedule, now: number): 'SCHEDULED' | 'IN_PROGRESS' {
  return schedulePhase(s, now).status;
}

/** Whether the engine may release targets of a job in `status` now. */
export function mayRelease(status: string, rolloutStopped: boolean): boolean {
  return status === 'IN_PROGRESS' && !rolloutStopped;
}

/** What endBehavior does when endTime passes (§6): stop releasing, and cancel with or without force. */
export function endBehaviorPlan(behavior: JobEndBehavior | undefined): { stopRollout: true; cancel?: { force: boolean } } {
  if (behavior === 'CANCEL') return { stopRollout: true, cancel: { force: false } };
  if (behavior === 'FORCE_CANCEL') return { stopRollout: true, cancel: { force: true } };
  return { stopRollout: true };
}

// ---- Commands' rules ----

export function checkCancellable(jobId: string, job: { status: string; forceCanceled: boolean }, force: boolean): void {
  // A forced cancel of a job cancelled without force is allowed (§14 #11).
  const again = job.status === 'CANCELED' && force && !job.forceCanceled;
  if (job.status !== 'IN_PROGRESS' && job.status !== 'SCHEDULED' && !again) {
    throw new DomainError('InvalidStateTransitionException', `Job ${jobId} in status ${job.status} cannot be canceled.`);
  }
}

export function checkDeletable(jobId: string, status: string, force: boolean): void {
  if (status === 'DELETION_IN_PROGRESS') throw new DomainError('InvalidStateTransitionException', `Job ${jobId} is already being deleted.`);
  if (!force && status !== 'COMPLETED' && status !== 'CANCELED') {
    throw new DomainError('InvalidStateTransitionException', `Job ${jobId} in status ${status} cannot be deleted without force.`);
  }
}

export function checkUpdatable(jobId: string, status: string): void {
  if (status !== 'IN_PROGRESS') throw invalidRequest(`Job ${jobId} in status ${status} cannot be updated.`);
}

export function checkTargetsAssociable(jobId: string, job: { status: string; targetSelection: string }): void {
  if (job.targetSelection !== 'CONTINUOUS') throw invalidRequest(`Targets can only be associated with a CONTINUOUS job; job ${jobId} is SNAPSHOT.`);
  if (job.status !== 'IN_PROGRESS') throw invalidRequest(`Job ${jobId} in status ${job.status} cannot have targets associated.`);
}

// ---- Completion ----

/**
 * Whether a job with nothing pending is COMPLETED (§2.3, §6): a SNAPSHOT job once its rollout is
 * done (or stopped); a CONTINUOUS job only once its endTime has passed. The "nothing pending" part
 * is checked by the store in the same statement that completes the job, against exact counters.
 */
export function mayComplete(job: { status: string; targetSelection: string; rolloutDone: boolean; endPassed: boolean }): boolean {
  if (job.status !== 'IN_PROGRESS' || !job.rolloutDone) return false;
  return job.targetSelection === 'SNAPSHOT' || job.endPassed;
}

// ---- Abort (§5) ----

const FAILURE_STATUSES: Record<AbortCriteria['failureType'], JobExecutionStatus[]> = {
  FAILED: ['FAILED'],
  REJECTED: ['REJECTED'],
  TIMED_OUT: ['TIMED_OUT'],
  ALL: ['FAILED', 'REJECTED', 'TIMED_OUT'],
};
const TERMINAL: JobExecutionStatus[] = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'REMOVED', 'CANCELED'];

/**
 * The first criterion that trips: once at least `minNumberOfExecutedThings` executions are
 * terminal, (executions of the failure type) ÷ (terminal executions) × 100 ≥ thresholdPercentage.
 * Counters count executions, not things: a thing retried three times counts three.
 */
export function trippedAbortCriterion(config: AbortConfig | undefined, counts: ExecutionCounts): { criterion: AbortCriteria; completed: number; failed: number } | undefined {
  if (!config) return undefined;
  const completed = TERMINAL.reduce((n, s) => n + counts[s], 0);
  for (const criterion of config.criteriaList) {
    if (completed < criterion.minNumberOfExecutedThings || completed === 0) continue;
    const failed = FAILURE_STATUSES[criterion.failureType].reduce((n, s) => n + counts[s], 0);
    if ((failed / completed) * 100 >= criterion.thresholdPercentage) return { criterion, completed, failed };
  }
  return undefined;
}

/**
 * AWS fills in reasonCode and comment of an aborted job but does not document them (jobs.md §2.4);
 * these are ours (decision 0013).
 */
export const ABORT_REASON_CODE = 'ABORT_CRITERIA_MET';

export function abortComment(t: { criterion: AbortCriteria; completed: number; failed: number }): string {
  const pct = Math.round((t.failed / t.completed) * 10_000) / 100;
  return `Job aborted by its abort config: ${t.failed} of ${t.completed} completed executions are ${t.criterion.failureType} (${pct}%), at or above the threshold of ${t.criterion.thresholdPercentage}% (minimum ${t.criterion.minNumberOfExecutedThings} executed things).`;
}

// ---- Retries (§3.6) ----

/**
 * Whether an execution that just ended in `status` is retried as a new execution: FAILED and
 * TIMED_OUT only (REJECTED never), up to the matching criterion's numberOfRetries (ALL matches
 * both), counted by the execution's retryAttempt.
 */
export function shouldRetry(config: JobExecutionsRetryConfig | undefined, status: string, retryAttempt: number): boolean {
  if (!config || (status !== 'FAILED' && status !== 'TIMED_OUT')) return false;
  const criterion = config.criteriaList.find((c) => c.failureType === status) ?? config.criteriaList.find((c) => c.failureType === 'ALL');
  return criterion !== undefined && retryAttempt < criterion.numberOfRetries;
}
