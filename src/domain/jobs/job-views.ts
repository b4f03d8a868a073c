import type { JobExecutionRow } from '../../store/job-executions.js';
import type { JobRolloutRow } from '../../store/job-rollouts.js';
import type { JobRow, JobTargetRow } from '../../store/jobs.js';
import type { Arns } from '../arns.js';
import { parseJson } from '../json.js';
import { approximateSecondsBeforeTimedOut, type ExecutionState, type JobExecutionStatus } from './execution-state-machine.js';
import type { DestinationPackageVersion } from './job-document.js';
import type { SchedulingConfig } from './schedule-rules.js';
import { nextMaintenanceWindowStarts, parseScheduleTime } from './schedule-time.js';

/**
 * Row ↔ domain conversions and the shapes each plane returns (jobs.md §8, §9). Timestamps leave as
 * Dates; the door encodes them (control plane: fractional seconds, data plane: whole seconds).
 */

/** Kept here too: the execution and data-plane services import it from this module. */
export { parseJson };

export function executionState(row: JobExecutionRow): ExecutionState {
  const state: ExecutionState = {
    status: row.status as JobExecutionStatus,
    versionNumber: Number(row.version_number),
    executionNumber: Number(row.execution_number),
    queuedAt: Number(row.queued_at),
    lastUpdatedAt: Number(row.last_updated_at),
    forceCanceled: row.force_canceled === 1,
  };
  if (row.status_details !== null) state.statusDetails = JSON.parse(row.status_details) as Record<string, string>;
  if (row.started_at !== null) state.startedAt = Number(row.started_at);
  if (row.step_deadline_at !== null) state.stepDeadlineAt = Number(row.step_deadline_at);
  if (row.in_progress_deadline_at !== null) state.inProgressDeadlineAt = Number(row.in_progress_deadline_at);
  return state;
}

/** The columns a new state writes (everything the state machine may change). */
export function executionPatch(state: ExecutionState, timeoutAt: number | undefined) {
  return {
    status: state.status,
    version_number: state.versionNumber,
    status_details: state.statusDetails === undefined ? null : JSON.stringify(state.statusDetails),
    started_at: state.startedAt ?? null,
    last_updated_at: state.lastUpdatedAt,
    force_canceled: state.forceCanceled ? 1 : 0,
    step_deadline_at: state.stepDeadlineAt ?? null,
    in_progress_deadline_at: state.inProgressDeadlineAt ?? null,
    timeout_at: timeoutAt ?? null,
  };
}

/** Control-plane JobExecution (statusDetails wrapped in detailsMap). */
export function controlPlaneExecution(row: JobExecutionRow, arns: Arns, now: number) {
  const s = executionState(row);
  const seconds = approximateSecondsBeforeTimedOut(s, now);
  return {
    jobId: row.job_id,
    status: s.status,
    forceCanceled: s.forceCanceled,
    ...(s.statusDetails ? { statusDetails: { detailsMap: s.statusDetails } } : {}),
    thingArn: arns.thing(row.thing_name),
    queuedAt: new Date(s.queuedAt),
    ...(s.startedAt !== undefined ? { startedAt: new Date(s.startedAt) } : {}),
    lastUpdatedAt: new Date(s.lastUpdatedAt),
    executionNumber: s.executionNumber,
    versionNumber: s.versionNumber,
    ...(seconds !== undefined ? { approximateSecondsBeforeTimedOut: seconds } : {}),
  };
}

/** Control-plane JobExecutionSummary (with retryAttempt). */
export function controlPlaneExecutionSummary(row: JobExecutionRow) {
  return {
    status: row.status,
    queuedAt: new Date(Number(row.queued_at)),
    ...(row.started_at !== null ? { startedAt: new Date(Number(row.started_at)) } : {}),
    lastUpdatedAt: new Date(Number(row.last_updated_at)),
    executionNumber: Number(row.execution_number),
    retryAttempt: Number(row.retry_attempt),
  };
}

/** Data-plane (and MQTT) JobExecution: flat statusDetails; the document is added by the caller. */
export function devicePlaneExecution(row: JobExecutionRow, now: number) {
  const s = executionState(row);
  const seconds = approximateSecondsBeforeTimedOut(s, now);
  return {
    jobId: row.job_id,
    thingName: row.thing_name,
    status: s.status,
    ...(s.statusDetails ? { statusDetails: s.statusDetails } : {}),
    queuedAt: new Date(s.queuedAt),
    ...(s.startedAt !== undefined ? { startedAt: new Date(s.startedAt) } : {}),
    lastUpdatedAt: new Date(s.lastUpdatedAt),
    versionNumber: s.versionNumber,
    executionNumber: s.executionNumber,
    ...(seconds !== undefined ? { approximateSecondsBeforeTimedOut: seconds } : {}),
  };
}

/** Data-plane (and MQTT) JobExecutionSummary. */
export function devicePlaneExecutionSummary(row: JobExecutionRow) {
  return {
    jobId: row.job_id,
    queuedAt: new Date(Number(row.queued_at)),
    ...(row.started_at !== null ? { startedAt: new Date(Number(row.started_at)) } : {}),
    lastUpdatedAt: new Date(Number(row.last_updated_at)),
    versionNumber: Number(row.version_number),
    executionNumber: Number(row.execution_number),
  };
}

export function jobProcessDetails(row: JobRow) {
  return {
    numberOfCanceledThings: Number(row.n_canceled),
    numberOfSucceededThings: Number(row.n_succeeded),
    numberOfFailedThings: Number(row.n_failed),
    numberOfRejectedThings: Number(row.n_rejected),
    numberOfQueuedThings: Number(row.n_queued),
    numberOfInProgressThings: Number(row.n_in_progress),
    numberOfRemovedThings: Number(row.n_removed),
    numberOfTimedOutThings: Number(row.n_timed_out),
  };
}

/** The package-version ARN of a destination: resolved, or as requested (beforeSubstitution). */
export function destinationArn(arns: Arns, v: DestinationPackageVersion, beforeSubstitution: boolean): string {
  return arns.packageVersion(v.packageName, beforeSubstitution ? v.requestedVersionName : v.versionName);
}

/** How many upcoming maintenance-window openings DescribeJob lists (jobs.md §6). */
const SCHEDULED_ROLLOUTS_LISTED = 7;

/**
 * `scheduledJobRollouts`: the next openings of the job's maintenance windows, from now (or its
 * startTime, if later) until its endTime, while the job can still roll out.
 */
function scheduledJobRollouts(row: JobRow, scheduling: SchedulingConfig | undefined, nowMs: number): { startTime: string }[] | undefined {
  const windows = scheduling?.maintenanceWindows;
  if (!windows || windows.length === 0 || (row.status !== 'SCHEDULED' && row.status !== 'IN_PROGRESS')) return undefined;
  const start = scheduling.startTime !== undefined ? parseScheduleTime(scheduling.startTime) : undefined;
  const end = scheduling.endTime !== undefined ? parseScheduleTime(scheduling.endTime) : undefined;
  return nextMaintenanceWindowStarts(windows, Math.max(nowMs, start ?? nowMs), SCHEDULED_ROLLOUTS_LISTED)
    .filter((o) => end === undefined || o.startMs < end)
    .map((o) => ({ startTime: o.startTime }));
}

/**
 * What the rollout shows of itself (jobs.md §2.1, §4): `isConcurrent` while targets are still
 * being released or queued executions cancelled, and the targets not fully released yet.
 */
export function rolloutState(row: JobRow, rollout: JobRolloutRow | undefined, targets: JobTargetRow[] = []): { isConcurrent: boolean; processingTargets?: string[] } {
  const releasing = rollout !== undefined && (row.status === 'IN_PROGRESS' || row.status === 'SCHEDULED') && rollout.stopped === 0 && Number(rollout.released) < Number(rollout.total);
  const cancelling = rollout?.cancel_pending === 1;
  const processing = releasing ? targets.filter((t) => t.last_seq !== null && Number(t.last_seq) > Number(rollout!.released)).map((t) => t.target_arn) : [];
  return { isConcurrent: releasing || cancelling, ...(processing.length > 0 ? { processingTargets: processing } : {}) };
}

/** DescribeJob's `job` (jobs.md §8). */
export function jobView(row: JobRow, arns: Arns, beforeSubstitution: boolean, nowMs: number, rollout: { isConcurrent: boolean; processingTargets?: string[] } = { isConcurrent: false }) {
  const destinations = parseJson<DestinationPackageVersion[]>(row.destination_package_versions);
  const scheduling = parseJson<SchedulingConfig>(row.scheduling_config);
  const rollouts = scheduledJobRollouts(row, scheduling, nowMs);
  const opt = <T>(key: string, value: T | undefined | null) => (value === undefined || value === null ? {} : { [key]: value });
  return {
    jobArn: arns.job(row.job_id),
    jobId: row.job_id,
    targetSelection: row.target_selection,
    status: row.status,
    forceCanceled: row.force_canceled === 1,
    ...opt('reasonCode', row.reason_code),
    ...opt('comment', row.comment),
    targets: JSON.parse(row.targets) as string[],
    ...opt('description', row.description),
    ...opt('presignedUrlConfig', parseJson(row.presigned_url_config)),
    ...opt('jobExecutionsRolloutConfig', parseJson(row.rollout_config)),
    ...opt('abortConfig', parseJson(row.abort_config)),
    createdAt: new Date(Number(row.created_at)),
    lastUpdatedAt: new Date(Number(row.last_updated_at)),
    ...(row.completed_at !== null ? { completedAt: new Date(Number(row.completed_at)) } : {}),
    jobProcessDetails: { ...jobProcessDetails(row), ...(rollout.processingTargets ? { processingTargets: rollout.processingTargets } : {}) },
    // AWS answers {} for these two when none was set (jobs.md §6).
    timeoutConfig: parseJson(row.timeout_config) ?? {},
    ...opt('namespaceId', row.namespace_id),
    ...opt('jobTemplateArn', row.job_template_arn),
    ...opt('jobExecutionsRetryConfig', parseJson(row.retry_config)),
    ...opt('documentParameters', parseJson(row.document_parameters)),
    isConcurrent: rollout.isConcurrent,
    schedulingConfig: scheduling ?? {},
    ...(rollouts ? { scheduledJobRollouts: rollouts } : {}),
    ...(destinations && destinations.length > 0
      ? { destinationPackageVersions: destinations.map((v) => destinationArn(arns, v, beforeSubstitution)) }
      : {}),
  };
}

export function jobSummaryView(row: JobRow, arns: Arns, thingGroupId: string | undefined, isConcurrent: boolean) {
  return {
    jobArn: arns.job(row.job_id),
    jobId: row.job_id,
    ...(thingGroupId !== undefined ? { thingGroupId } : {}),
    targetSelection: row.target_selection,
    status: row.status,
    createdAt: new Date(Number(row.created_at)),
    lastUpdatedAt: new Date(Number(row.last_updated_at)),
    ...(row.completed_at !== null ? { completedAt: new Date(Number(row.completed_at)) } : {}),
    isConcurrent,
  };
}
