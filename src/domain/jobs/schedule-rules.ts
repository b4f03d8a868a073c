import { DomainError } from '../errors.js';
import type { FieldErrors } from '../validation.js';
import { cronProblem, parseScheduleTime, type MaintenanceWindow } from './schedule-time.js';

/**
 * schedulingConfig and maintenance windows (jobs.md §6): members checked like the other job
 * configurations (see job-config-rules.ts), business rules pushed to `rules`. The times are
 * checked against `nowMs`; the texts of those rules are ours (AWS's are not documented).
 */

export type JobEndBehavior = 'STOP_ROLLOUT' | 'CANCEL' | 'FORCE_CANCEL';

export interface SchedulingConfig {
  startTime?: string;
  endTime?: string;
  endBehavior?: JobEndBehavior;
  maintenanceWindows?: MaintenanceWindow[];
}

export const MIN_SCHEDULE_LEAD_MS = 30 * 60_000;
export const MAX_START_AHEAD_MS = 365 * 24 * 3600_000;
export const MAX_END_AHEAD_MS = 2 * 365 * 24 * 3600_000;
const END_BEHAVIORS = ['STOP_ROLLOUT', 'CANCEL', 'FORCE_CANCEL'] as const;

export const SNAPSHOT_MAINTENANCE_WINDOW_MESSAGE = 'TargetSelection is invalid. MaintenanceWindow cannot be used with SNAPSHOT job.';

export function checkSchedulingConfig(errors: FieldErrors, rules: string[], value: unknown, nowMs: number): SchedulingConfig | undefined {
  const obj = errors.object(value, 'schedulingConfig');
  if (!obj) return undefined;
  const before = errors.messages.length;
  const startTime = errors.string(obj.startTime, 'schedulingConfig.startTime', { min: 1, max: 64 });
  const endTime = errors.string(obj.endTime, 'schedulingConfig.endTime', { min: 1, max: 64 });
  const endBehavior = errors.string(obj.endBehavior, 'schedulingConfig.endBehavior', { enum: END_BEHAVIORS }) as JobEndBehavior | undefined;
  const windows = checkMaintenanceWindows(errors, rules, obj.maintenanceWindows, 'schedulingConfig.maintenanceWindows');
  if (errors.messages.length !== before) return undefined;

  const startMs = startTime === undefined ? undefined : parseScheduleTime(startTime);
  const endMs = endTime === undefined ? undefined : parseScheduleTime(endTime);
  const expected = 'Use an ISO 8601 date and time such as 2030-01-01T00:00 (UTC unless a zone is given).';
  if (startTime !== undefined && startMs === undefined) rules.push(`The startTime ${startTime} is not a valid date and time. ${expected}`);
  else if (endTime !== undefined && endMs === undefined) rules.push(`The endTime ${endTime} is not a valid date and time. ${expected}`);
  else if (startMs !== undefined && startMs < nowMs + MIN_SCHEDULE_LEAD_MS) rules.push(`The startTime ${startTime} must be at least 30 minutes after the current time.`);
  else if (startMs !== undefined && startMs > nowMs + MAX_START_AHEAD_MS) rules.push(`The startTime ${startTime} cannot be more than 1 year after the current time.`);
  else if (endMs !== undefined && endMs < nowMs + MIN_SCHEDULE_LEAD_MS) rules.push(`The endTime ${endTime} must be at least 30 minutes after the current time.`);
  else if (endMs !== undefined && endMs > nowMs + MAX_END_AHEAD_MS) rules.push(`The endTime ${endTime} cannot be more than 2 years after the current time.`);
  else if (startMs !== undefined && endMs !== undefined && endMs - startMs < MIN_SCHEDULE_LEAD_MS) {
    rules.push(`The endTime ${endTime} must be at least 30 minutes after the startTime ${startTime}.`);
  } else if (startMs !== undefined && endMs !== undefined && endMs - startMs > MAX_END_AHEAD_MS) {
    rules.push(`The endTime ${endTime} cannot be more than 2 years after the startTime ${startTime}.`);
  }
  return {
    ...(startTime !== undefined ? { startTime } : {}),
    ...(endTime !== undefined ? { endTime } : {}),
    ...(endBehavior !== undefined ? { endBehavior } : {}),
    ...(windows !== undefined ? { maintenanceWindows: windows } : {}),
  };
}

export function checkMaintenanceWindows(errors: FieldErrors, rules: string[], value: unknown, path: string): MaintenanceWindow[] | undefined {
  const list = errors.array(value, path);
  if (!list) return undefined;
  const before = errors.messages.length;
  const out: MaintenanceWindow[] = [];
  list.forEach((item, i) => {
    const p = `${path}.${i + 1}.member`;
    const w = errors.object(item, p, true);
    if (!w) return;
    const startTime = errors.string(w.startTime, `${p}.startTime`, { required: true, min: 1, max: 256 });
    const duration = errors.number(w.durationInMinutes, `${p}.durationInMinutes`, { required: true, integer: true, min: 1, max: 1430 });
    if (startTime !== undefined) {
      const problem = cronProblem(startTime);
      if (problem) rules.push(`The maintenance window startTime ${startTime} is not a valid cron expression: ${problem}.`);
    }
    if (startTime !== undefined && duration !== undefined) out.push({ startTime, durationInMinutes: duration });
  });
  return errors.messages.length === before ? out : undefined;
}

/** Maintenance windows need a CONTINUOUS job (jobs.md §6); the message AWS gives otherwise. */
export function maintenanceWindowTargetProblem(targetSelection: string, windows: readonly MaintenanceWindow[] | undefined): string | undefined {
  return targetSelection === 'SNAPSHOT' && windows !== undefined && windows.length > 0 ? SNAPSHOT_MAINTENANCE_WINDOW_MESSAGE : undefined;
}

/** Throws InvalidRequestException when a SNAPSHOT job would get maintenance windows. */
export function assertMaintenanceWindowsAllowed(targetSelection: string, windows: readonly MaintenanceWindow[] | undefined): void {
  const problem = maintenanceWindowTargetProblem(targetSelection, windows);
  if (problem) throw new DomainError('InvalidRequestException', problem);
}

/** Start and end of a validated schedulingConfig as epoch ms. */
export function schedulingTimes(config: SchedulingConfig | undefined): { startMs?: number; endMs?: number } {
  const startMs = config?.startTime === undefined ? undefined : parseScheduleTime(config.startTime);
  const endMs = config?.endTime === undefined ? undefined : parseScheduleTime(config.endTime);
  return { ...(startMs !== undefined ? { startMs } : {}), ...(endMs !== undefined ? { endMs } : {}) };
}
