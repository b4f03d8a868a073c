import { DomainError, type AwsErrorName } from '../errors.js';
import { FieldErrors, NO_CONTROL_CHARS, NO_CONTROL_CHARS_TEXT } from '../validation.js';

/**
 * THE job execution state machine (jobs.md §3): statuses, legal transitions, versionNumber rules,
 * expectedVersion, statusDetails, the step and in-progress timers. Pure: it takes an execution's
 * state and a request, and returns the next state plus what changed. Every door (control plane,
 * HTTPS data plane, MQTT, the timeout reconciler) reaches it through ExecutionService; nothing else
 * decides an execution's status.
 */

export type JobExecutionStatus = 'QUEUED' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'REJECTED' | 'REMOVED' | 'CANCELED';

export const EXECUTION_STATUSES: readonly JobExecutionStatus[] = ['QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'REMOVED', 'CANCELED'];
export const TERMINAL_STATUSES: readonly JobExecutionStatus[] = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'REMOVED', 'CANCELED'];
export const PENDING_STATUSES: readonly JobExecutionStatus[] = ['QUEUED', 'IN_PROGRESS'];
/** What a device may report (UpdateJobExecution `status`). */
const DEVICE_TARGETS: readonly JobExecutionStatus[] = ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED'];

/** Every execution begins QUEUED at version 1, never started, not force-cancelled (§3.3). */
export const NEW_EXECUTION = { status: 'QUEUED' as JobExecutionStatus, versionNumber: 1 } as const;

export const isTerminal = (s: string): boolean => (TERMINAL_STATUSES as readonly string[]).includes(s);
export const isPending = (s: string): boolean => s === 'QUEUED' || s === 'IN_PROGRESS';

export const MAX_TIMEOUT_MINUTES = 10080;

export interface ExecutionState {
  status: JobExecutionStatus;
  versionNumber: number;
  executionNumber: number;
  /** Undefined when never set. */
  statusDetails?: Record<string, string>;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  forceCanceled: boolean;
  /** Absolute deadlines (epoch ms) of the step timer and the job's in-progress timer. */
  stepDeadlineAt?: number;
  inProgressDeadlineAt?: number;
}

/** The result of a transition: the new state and what the caller must reflect (counters, notifications, completion). */
export interface Transition {
  before: ExecutionState;
  after: ExecutionState;
  /** False for accepted no-ops (start-next on an IN_PROGRESS execution): nothing to write. */
  changed: boolean;
  statusChanged: boolean;
  /** Left the pending set (QUEUED/IN_PROGRESS) — counters, job completion, notify. */
  leftPending: boolean;
  enteredTerminal: boolean;
}

/** Environment a transition needs: the time and the job's in-progress timeout. */
export interface TransitionEnv {
  now: number;
  inProgressTimeoutInMinutes?: number;
}

/** The earliest running deadline, if any (what the timeout reconciler waits for). */
export function timeoutAt(state: ExecutionState): number | undefined {
  if (!isPending(state.status)) return undefined;
  const ds = [state.stepDeadlineAt, state.inProgressDeadlineAt].filter((d): d is number => d !== undefined);
  return ds.length === 0 ? undefined : Math.min(...ds);
}

/** Seconds until the nearest deadline; absent when no timer runs or the execution is terminal. */
export function approximateSecondsBeforeTimedOut(state: ExecutionState, now: number): number | undefined {
  const at = timeoutAt(state);
  return at === undefined ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

function transition(before: ExecutionState, after: ExecutionState): Transition {
  const statusChanged = before.status !== after.status;
  return {
    before,
    after,
    changed: true,
    statusChanged,
    leftPending: isPending(before.status) && !isPending(after.status),
    enteredTerminal: statusChanged && isTerminal(after.status),
  };
}

const unchanged = (state: ExecutionState): Transition => ({
  before: state,
  after: state,
  changed: false,
  statusChanged: false,
  leftPending: false,
  enteredTerminal: false,
});

/** The state a device sees in rejections (`executionState`). */
export function executionStateView(state: ExecutionState): { status: string; statusDetails?: Record<string, string>; versionNumber: number } {
  return { status: state.status, ...(state.statusDetails ? { statusDetails: state.statusDetails } : {}), versionNumber: state.versionNumber };
}

function checkVersion(state: ExecutionState, expectedVersion: number | undefined, errorName: AwsErrorName, withState: boolean): void {
  if (expectedVersion === undefined || expectedVersion === state.versionNumber) return;
  throw new DomainError(
    errorName,
    `Expected version ${expectedVersion} but found version ${state.versionNumber}`,
    withState ? { executionState: executionStateView(state) } : {},
    'VERSION_MISMATCH',
  );
}

/** Step timer arithmetic (§3.5): a new value replaces the old one; -1 clears it. */
function stepDeadline(current: number | undefined, stepTimeoutInMinutes: number | undefined, now: number): number | undefined {
  if (stepTimeoutInMinutes === undefined) return current;
  if (stepTimeoutInMinutes === -1) return undefined;
  return now + stepTimeoutInMinutes * 60_000;
}

/** Leaving the pending set ends both timers. */
function withoutTimers(state: ExecutionState): ExecutionState {
  const { stepDeadlineAt: _s, inProgressDeadlineAt: _i, ...rest } = state;
  return rest;
}

export interface DeviceUpdate {
  status: JobExecutionStatus;
  statusDetails?: Record<string, string>;
  expectedVersion?: number;
  stepTimeoutInMinutes?: number;
}

/**
 * UpdateJobExecution from a device (HTTPS or MQTT). QUEUED → IN_PROGRESS | SUCCEEDED | FAILED |
 * REJECTED; IN_PROGRESS → the same (IN_PROGRESS again is a progress update). A terminal execution,
 * a service-only status or a version mismatch → InvalidStateTransitionException with the current
 * executionState. Every accepted update bumps versionNumber.
 */
export function applyDeviceUpdate(state: ExecutionState, update: DeviceUpdate, env: TransitionEnv): Transition {
  checkVersion(state, update.expectedVersion, 'InvalidStateTransitionException', true);
  if (isTerminal(state.status)) {
    throw new DomainError(
      'InvalidStateTransitionException',
      `The job execution is in terminal state ${state.status} and its status cannot be changed to be ${update.status}`,
      { executionState: executionStateView(state) },
      'TERMINAL_STATE',
    );
  }
  if (!DEVICE_TARGETS.includes(update.status)) {
    throw new DomainError('InvalidStateTransitionException', `The status of job execution cannot be changed to be ${update.status}`, {
      executionState: executionStateView(state),
    }, 'ILLEGAL_TRANSITION');
  }
  const now = env.now;
  let next: ExecutionState = {
    ...state,
    status: update.status,
    versionNumber: state.versionNumber + 1,
    lastUpdatedAt: now,
    ...(update.statusDetails !== undefined ? { statusDetails: update.statusDetails } : {}),
  };
  // The first move out of QUEUED marks the start, whether to IN_PROGRESS or straight to an end (§14 #6).
  if (state.status === 'QUEUED') {
    next.startedAt = now;
    if (update.status === 'IN_PROGRESS' && env.inProgressTimeoutInMinutes !== undefined) {
      next.inProgressDeadlineAt = now + env.inProgressTimeoutInMinutes * 60_000;
    }
  }
  if (update.status === 'IN_PROGRESS') {
    const step = stepDeadline(next.stepDeadlineAt, update.stepTimeoutInMinutes, now);
    next = { ...next, stepDeadlineAt: step };
    if (step === undefined) delete next.stepDeadlineAt;
  } else {
    next = withoutTimers(next);
  }
  return transition(state, next);
}

/**
 * StartNextPendingJobExecution on the thing's front execution: a QUEUED one starts (IN_PROGRESS,
 * version+1, statusDetails and step timer applied); an IN_PROGRESS one is returned unchanged.
 */
export function applyStartNext(state: ExecutionState, request: { statusDetails?: Record<string, string>; stepTimeoutInMinutes?: number }, env: TransitionEnv): Transition {
  if (state.status !== 'QUEUED') return unchanged(state);
  return applyDeviceUpdate(state, { status: 'IN_PROGRESS', statusDetails: request.statusDetails, stepTimeoutInMinutes: request.stepTimeoutInMinutes }, env);
}

/**
 * Control-plane CancelJobExecution: QUEUED → CANCELED; IN_PROGRESS only with force (then
 * forceCanceled); terminal → InvalidStateTransitionException; version mismatch →
 * VersionConflictException. version+1.
 */
export function applyCancel(state: ExecutionState, request: { force: boolean; expectedVersion?: number; statusDetails?: Record<string, string> }, now: number): Transition {
  checkVersion(state, request.expectedVersion, 'VersionConflictException', false);
  if (isTerminal(state.status)) {
    throw new DomainError('InvalidStateTransitionException', `The job execution is already in terminal state ${state.status} and cannot be canceled.`);
  }
  if (state.status === 'IN_PROGRESS' && !request.force) {
    throw new DomainError('InvalidStateTransitionException', 'The job execution is IN_PROGRESS; use force to cancel it.');
  }
  return transition(state, {
    ...withoutTimers(state),
    status: 'CANCELED',
    versionNumber: state.versionNumber + 1,
    lastUpdatedAt: now,
    forceCanceled: state.status === 'IN_PROGRESS' ? true : state.forceCanceled,
    ...(request.statusDetails !== undefined ? { statusDetails: request.statusDetails } : {}),
  });
}

/**
 * REMOVED by the service: the thing left every target group of a CONTINUOUS job while QUEUED, or
 * the thing was deleted while the execution was pending. versionNumber is not bumped (§3.3).
 */
export function applyRemove(state: ExecutionState, now: number): Transition {
  if (!isPending(state.status)) return unchanged(state);
  return transition(state, { ...withoutTimers(state), status: 'REMOVED', lastUpdatedAt: now });
}

/** applyTimeout for many executions at once: what the timeout reconciler writes set-based. */
export const TIMEOUT_PATCH = { status: 'TIMED_OUT' as JobExecutionStatus, bumpVersion: true, clearTimers: true } as const;

/** The timeout reconciler: a pending execution whose deadline passed → TIMED_OUT (version+1). */
export function applyTimeout(state: ExecutionState, now: number): Transition {
  const at = timeoutAt(state);
  if (at === undefined || at > now) return unchanged(state);
  return transition(state, { ...withoutTimers(state), status: 'TIMED_OUT', versionNumber: state.versionNumber + 1, lastUpdatedAt: now });
}

/** DeleteJobExecution: without force only terminal or QUEUED executions (§14 #9). */
export function checkDeletable(state: ExecutionState, force: boolean): void {
  if (!force && state.status === 'IN_PROGRESS') {
    throw new DomainError('InvalidStateTransitionException', 'Cannot delete a job execution in status IN_PROGRESS without force.');
  }
}

/**
 * What CancelJob does to a job's executions, applied set-based by the service: each listed status
 * moves to CANCELED with version+1, IN_PROGRESS ones (force only) marked forceCanceled. Terminal
 * executions are untouched. Same rules as applyCancel, for every execution at once.
 */
export function jobCancelPlan(force: boolean): { from: JobExecutionStatus; to: 'CANCELED'; bumpVersion: true; clearTimers: true; forceCanceled: boolean }[] {
  const plan: { from: JobExecutionStatus; to: 'CANCELED'; bumpVersion: true; clearTimers: true; forceCanceled: boolean }[] = [
    { from: 'QUEUED', to: 'CANCELED', bumpVersion: true, clearTimers: true, forceCanceled: false },
  ];
  if (force) plan.push({ from: 'IN_PROGRESS', to: 'CANCELED', bumpVersion: true, clearTimers: true, forceCanceled: true });
  return plan;
}

// ---- Request members shared by the doors ----

const DETAILS_KEY = /^[a-zA-Z0-9:_-]+$/;

/** statusDetails: key 1–128 `[a-zA-Z0-9:_-]+`, value 1–1024 without control characters (§3.4). */
export function checkStatusDetails(errors: FieldErrors, value: unknown, path = 'statusDetails', maxPairs?: number): Record<string, string> | undefined {
  return errors.stringMap(value, path, {
    maxEntries: maxPairs,
    key: { min: 1, max: 128, pattern: DETAILS_KEY, patternText: '[a-zA-Z0-9:_-]+' },
    value: { min: 1, max: 1024, pattern: NO_CONTROL_CHARS, patternText: NO_CONTROL_CHARS_TEXT },
  });
}

/** stepTimeoutInMinutes: 1–10080, and -1 (clear the step timer) where `allowClear`. */
export function checkStepTimeout(errors: FieldErrors, value: unknown, allowClear: boolean): number | undefined {
  if (allowClear && value === -1) return -1;
  return errors.number(value, 'stepTimeoutInMinutes', { integer: true, min: 1, max: MAX_TIMEOUT_MINUTES });
}

export function checkDeviceStatus(errors: FieldErrors, value: unknown): JobExecutionStatus | undefined {
  return errors.string(value, 'status', { required: true, enum: EXECUTION_STATUSES }) as JobExecutionStatus | undefined;
}
