import { DomainError } from '../errors.js';
import type { FieldErrors } from '../validation.js';
import { checkMaintenanceWindows, checkSchedulingConfig, type SchedulingConfig } from './schedule-rules.js';
import type { MaintenanceWindow } from './schedule-time.js';

export {
  assertMaintenanceWindowsAllowed,
  maintenanceWindowTargetProblem,
  schedulingTimes,
  SNAPSHOT_MAINTENANCE_WINDOW_MESSAGE,
  MAX_END_AHEAD_MS,
  MAX_START_AHEAD_MS,
  MIN_SCHEDULE_LEAD_MS,
  type JobEndBehavior,
  type SchedulingConfig,
} from './schedule-rules.js';
export { currentMaintenanceWindow, nextMaintenanceWindowStarts, parseScheduleTime, type MaintenanceWindow, type WindowOccurrence } from './schedule-time.js';

/**
 * Validation of the configuration members shared by CreateJob, UpdateJob and CreateJobTemplate
 * (jobs.md §3.5, §3.6, §4, §5, §6, §7.2; ranges from the model, messages as AWS words them).
 *
 * Two kinds of failure, as on AWS: member constraints ("Value 'x' at 'path' failed to satisfy
 * constraint: ...", collected and reported together, in the service's fixed member order) and
 * business rules (one sentence, e.g. "Provide MaximumPerMinute value when ExponentialRate is
 * defined"). A business rule is only reported when no member constraint failed.
 */

export interface PresignedUrlConfig {
  roleArn?: string;
  /** 60–3600; when left out, URLs are valid for 3600 seconds. */
  expiresInSec?: number;
}

export interface RateIncreaseCriteria {
  numberOfNotifiedThings?: number;
  numberOfSucceededThings?: number;
}

export interface ExponentialRolloutRate {
  baseRatePerMinute: number;
  incrementFactor: number;
  rateIncreaseCriteria: RateIncreaseCriteria;
}

export interface JobExecutionsRolloutConfig {
  maximumPerMinute?: number;
  exponentialRate?: ExponentialRolloutRate;
}

export type AbortFailureType = 'FAILED' | 'REJECTED' | 'TIMED_OUT' | 'ALL';

export interface AbortCriteria {
  failureType: AbortFailureType;
  action: 'CANCEL';
  thresholdPercentage: number;
  minNumberOfExecutedThings: number;
}

export interface AbortConfig {
  criteriaList: AbortCriteria[];
}

export interface TimeoutConfig {
  inProgressTimeoutInMinutes: number;
}

export type RetryFailureType = 'FAILED' | 'TIMED_OUT' | 'ALL';

export interface RetryCriteria {
  failureType: RetryFailureType;
  numberOfRetries: number;
}

export interface JobExecutionsRetryConfig {
  criteriaList: RetryCriteria[];
}

export interface JobConfigs {
  presignedUrlConfig?: PresignedUrlConfig;
  jobExecutionsRolloutConfig?: JobExecutionsRolloutConfig;
  abortConfig?: AbortConfig;
  timeoutConfig?: TimeoutConfig;
  jobExecutionsRetryConfig?: JobExecutionsRetryConfig;
  /** Jobs only. */
  schedulingConfig?: SchedulingConfig;
  /** Templates only (top-level `maintenanceWindows` of CreateJobTemplate). */
  maintenanceWindows?: MaintenanceWindow[];
}

export interface JobConfigOptions {
  /** CreateJobTemplate: top-level maintenanceWindows instead of schedulingConfig. */
  forTemplate: boolean;
  /**
   * UpdateJob: the TIMED_OUT-needs-a-timeout rule is not applied (an update may only lower retries
   * of failure types the job already has; use checkRetryConfigUpdate).
   */
  forUpdate?: boolean;
  /**
   * The timeout config the job gets when the request has none (CreateJob from a job template), so a
   * TIMED_OUT retry criterion in the request is satisfied by the template's timeout.
   */
  inheritedTimeoutConfig?: TimeoutConfig;
  /**
   * Leave the TIMED_OUT-needs-a-timeout rule to the caller, who learns the final configs later
   * (CreateJobTemplate from a job): check them with retryTimeoutProblem.
   */
  skipRetryTimeoutRule?: boolean;
}

export const DEFAULT_PRESIGNED_EXPIRY_SEC = 3600;

const ABORT_FAILURE_TYPES = ['ALL', 'TIMED_OUT', 'FAILED', 'REJECTED'] as const;
const RETRY_FAILURE_TYPES = ['ALL', 'TIMED_OUT', 'FAILED'] as const;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const PACKAGE_VERSION_ARN = /^arn:[!-~]+$/;

export const RETRY_ALL_ALONE_MESSAGE = 'A retryCriteria with failure type ALL must be used by itself.';

/** Doubles are rendered the way the service (Java) prints them: 101 → '101.0'. */
export function renderDouble(v: number): string {
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

function decimals(v: number): number {
  const text = String(v);
  if (/e/i.test(text)) return 99;
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/**
 * Validates and copies the configuration members of a CreateJob / CreateJobTemplate / UpdateJob
 * body. Only the members present are returned; member violations go to `errors`, and a broken
 * business rule is added to `errors` only if nothing else failed (call it after the caller's own
 * member checks, then `errors.throwIfAny()`).
 */
export function checkJobConfigs(errors: FieldErrors, input: Record<string, unknown>, nowMs: number, opts: JobConfigOptions): JobConfigs {
  const rules: string[] = [];
  const out: JobConfigs = {};

  // Member order as the service reports it (rollout, presigned URL, retry, abort), then ours.
  const rollout = checkRollout(errors, rules, input.jobExecutionsRolloutConfig);
  const presigned = checkPresignedUrlConfig(errors, rules, input.presignedUrlConfig);
  const retry = checkRetryConfig(errors, rules, input.jobExecutionsRetryConfig);
  const abort = checkAbortConfig(errors, input.abortConfig);
  const timeout = checkTimeoutConfig(errors, rules, input.timeoutConfig);
  let scheduling: SchedulingConfig | undefined;
  let windows: MaintenanceWindow[] | undefined;
  if (opts.forTemplate) windows = checkMaintenanceWindows(errors, rules, input.maintenanceWindows, 'maintenanceWindows');
  else scheduling = checkSchedulingConfig(errors, rules, input.schedulingConfig, nowMs);

  if (retry && !opts.forUpdate && !opts.skipRetryTimeoutRule && input.timeoutConfig === undefined) {
    const problem = retryTimeoutProblem(retry, timeout ?? opts.inheritedTimeoutConfig);
    if (problem) rules.push(problem);
  }

  if (presigned) out.presignedUrlConfig = presigned;
  if (rollout) out.jobExecutionsRolloutConfig = rollout;
  if (abort) out.abortConfig = abort;
  if (timeout) out.timeoutConfig = timeout;
  if (retry) out.jobExecutionsRetryConfig = retry;
  if (scheduling) out.schedulingConfig = scheduling;
  if (windows) out.maintenanceWindows = windows;
  if (!errors.any && rules.length > 0) errors.addRaw(rules[0]);
  return out;
}

/** Retrying TIMED_OUT executions needs a timeout (jobs.md §3.6). */
export function retryTimeoutProblem(retry: JobExecutionsRetryConfig | undefined, timeout: TimeoutConfig | undefined): string | undefined {
  if (!retry || timeout || !retry.criteriaList.some((c) => c.failureType === 'TIMED_OUT')) return undefined;
  return 'TimeoutConfig must be specified to retry job executions that fail with failure type TIMED_OUT.';
}

function checkRollout(errors: FieldErrors, rules: string[], value: unknown): JobExecutionsRolloutConfig | undefined {
  const obj = errors.object(value, 'jobExecutionsRolloutConfig');
  if (!obj) return undefined;
  const before = errors.messages.length;
  const max = errors.number(obj.maximumPerMinute, 'jobExecutionsRolloutConfig.maximumPerMinute', { integer: true, min: 1, max: 1000 });
  let rate: ExponentialRolloutRate | undefined;
  const rateObj = errors.object(obj.exponentialRate, 'jobExecutionsRolloutConfig.exponentialRate');
  if (rateObj) {
    const p = 'jobExecutionsRolloutConfig.exponentialRate';
    const base = errors.number(rateObj.baseRatePerMinute, `${p}.baseRatePerMinute`, { required: true, integer: true, min: 1, max: 1000 });
    const factor = checkDouble(errors, rateObj.incrementFactor, `${p}.incrementFactor`, { required: true, min: 1.1, max: 5, decimals: 1 });
    const criteriaObj = errors.object(rateObj.rateIncreaseCriteria, `${p}.rateIncreaseCriteria`, true);
    let criteria: RateIncreaseCriteria | undefined;
    if (criteriaObj) {
      const c = `${p}.rateIncreaseCriteria`;
      const notified = errors.number(criteriaObj.numberOfNotifiedThings, `${c}.numberOfNotifiedThings`, { integer: true, min: 1 });
      const succeeded = errors.number(criteriaObj.numberOfSucceededThings, `${c}.numberOfSucceededThings`, { integer: true, min: 1 });
      const given = [criteriaObj.numberOfNotifiedThings, criteriaObj.numberOfSucceededThings].filter((v) => v !== undefined && v !== null).length;
      if (given === 0) rules.push('Provide either NumberOfNotifiedThings or NumberOfSucceededThings when RateIncreaseCriteria is defined');
      else if (given === 2) rules.push('Provide only one of NumberOfNotifiedThings or NumberOfSucceededThings when RateIncreaseCriteria is defined');
      criteria = notified !== undefined ? { numberOfNotifiedThings: notified } : succeeded !== undefined ? { numberOfSucceededThings: succeeded } : undefined;
    }
    if (base !== undefined && factor !== undefined && criteria) rate = { baseRatePerMinute: base, incrementFactor: factor, rateIncreaseCriteria: criteria };
    if (obj.maximumPerMinute === undefined || obj.maximumPerMinute === null) rules.push('Provide MaximumPerMinute value when ExponentialRate is defined');
    else if (base !== undefined && max !== undefined && base >= max) rules.push('Exponential rollout baseRatePerMinute should be less than maximumPerMinute.');
  } else if (obj.maximumPerMinute === undefined || obj.maximumPerMinute === null) {
    rules.push('Provide MaximumPerMinute value or provide ExponentialRate and MaximumPerMinute');
  }
  if (errors.messages.length !== before) return undefined;
  return { ...(max !== undefined ? { maximumPerMinute: max } : {}), ...(rate ? { exponentialRate: rate } : {}) };
}

function checkPresignedUrlConfig(errors: FieldErrors, rules: string[], value: unknown): PresignedUrlConfig | undefined {
  const obj = errors.object(value, 'presignedUrlConfig');
  if (!obj) return undefined;
  const before = errors.messages.length;
  let roleArn: string | undefined;
  if (obj.roleArn !== undefined && obj.roleArn !== null) {
    if (typeof obj.roleArn !== 'string') errors.add(obj.roleArn, 'presignedUrlConfig.roleArn', 'Member must be a string');
    else if (obj.roleArn.length < 20 || obj.roleArn.length > 2048 || !ROLE_ARN.test(obj.roleArn)) rules.push(`Given role ${obj.roleArn} is invalid.`);
    else roleArn = obj.roleArn;
  }
  const expiresInSec = errors.number(obj.expiresInSec, 'presignedUrlConfig.expiresInSec', { integer: true, min: 60, max: 3600 });
  if (errors.messages.length !== before) return undefined;
  return { ...(roleArn !== undefined ? { roleArn } : {}), ...(expiresInSec !== undefined ? { expiresInSec } : {}) };
}

function renderRetryList(list: unknown[]): string {
  return `[${list
    .map((c) => {
      const o = (c ?? {}) as Record<string, unknown>;
      return `RetryCriteria(failureType=${String(o.failureType ?? null)}, numberOfRetries=${String(o.numberOfRetries ?? null)})`;
    })
    .join(', ')}]`;
}

function checkRetryConfig(errors: FieldErrors, rules: string[], value: unknown): JobExecutionsRetryConfig | undefined {
  const obj = errors.object(value, 'jobExecutionsRetryConfig');
  if (!obj) return undefined;
  const before = errors.messages.length;
  const path = 'jobExecutionsRetryConfig.criteriaList';
  const raw = obj.criteriaList;
  if (raw === undefined || raw === null) {
    errors.add(null, path, 'Member must not be null');
    return undefined;
  }
  if (!Array.isArray(raw)) {
    errors.add(raw, path, 'Member must be a list');
    return undefined;
  }
  if (raw.length < 1) errors.add('[]', path, 'Member must have length greater than or equal to 1');
  if (raw.length > 2) errors.add(renderRetryList(raw), path, 'Member must have length less than or equal to 2');
  const criteria: RetryCriteria[] = [];
  raw.forEach((item, i) => {
    const p = `${path}.${i + 1}.member`;
    const c = errors.object(item, p, true);
    if (!c) return;
    const type = errors.string(c.failureType, `${p}.failureType`, { required: true, enum: RETRY_FAILURE_TYPES });
    const retries = errors.number(c.numberOfRetries, `${p}.numberOfRetries`, { required: true, integer: true, min: 0, max: 10 });
    if (type !== undefined && retries !== undefined) criteria.push({ failureType: type as RetryFailureType, numberOfRetries: retries });
  });
  if (errors.messages.length !== before) return undefined;
  const types = criteria.map((c) => c.failureType);
  if (types.includes('ALL') && types.length > 1) rules.push(RETRY_ALL_ALONE_MESSAGE);
  else if (new Set(types).size !== types.length) rules.push('Each failure type can be used only once in RetryConfig.');
  else if (criteria.reduce((n, c) => n + c.numberOfRetries, 0) > 10) {
    rules.push('The total number of retries for all failure types cannot be more than 10.');
  }
  return { criteriaList: criteria };
}

function checkAbortConfig(errors: FieldErrors, value: unknown): AbortConfig | undefined {
  const obj = errors.object(value, 'abortConfig');
  if (!obj) return undefined;
  const before = errors.messages.length;
  const list = errors.array(obj.criteriaList, 'abortConfig.criteriaList', { required: true, min: 1 });
  if (!list) return undefined;
  const criteria: AbortCriteria[] = [];
  list.forEach((item, i) => {
    const p = `abortConfig.criteriaList.${i + 1}.member`;
    const c = errors.object(item, p, true);
    if (!c) return;
    // The service's own order: minNumberOfExecutedThings, failureType, action, thresholdPercentage.
    const min = errors.number(c.minNumberOfExecutedThings, `${p}.minNumberOfExecutedThings`, { required: true, integer: true, min: 1 });
    const type = errors.string(c.failureType, `${p}.failureType`, { required: true, enum: ABORT_FAILURE_TYPES });
    const action = errors.string(c.action, `${p}.action`, { required: true, enum: ['CANCEL'] });
    const threshold = checkDouble(errors, c.thresholdPercentage, `${p}.thresholdPercentage`, { required: true, max: 100, decimals: 2 });
    if (min !== undefined && type !== undefined && action !== undefined && threshold !== undefined) {
      criteria.push({ failureType: type as AbortFailureType, action: 'CANCEL', thresholdPercentage: threshold, minNumberOfExecutedThings: min });
    }
  });
  if (errors.messages.length !== before) return undefined;
  return { criteriaList: criteria };
}

function checkTimeoutConfig(errors: FieldErrors, rules: string[], value: unknown): TimeoutConfig | undefined {
  const obj = errors.object(value, 'timeoutConfig');
  if (!obj) return undefined;
  const v = obj.inProgressTimeoutInMinutes;
  if (v !== undefined && v !== null && typeof v !== 'number') {
    errors.add(v, 'timeoutConfig.inProgressTimeoutInMinutes', 'Member must be a number');
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 10080) {
    rules.push(`Provide valid timeout value, inProgressTimeoutInMinutes cannot be ${v === undefined || v === null ? 'null' : String(v)}.`);
    return undefined;
  }
  return { inProgressTimeoutInMinutes: v };
}

function checkDouble(
  errors: FieldErrors,
  value: unknown,
  path: string,
  rule: { required?: boolean; min?: number; max?: number; decimals: number },
): number | undefined {
  if (value === undefined || value === null) {
    if (rule.required) errors.add(null, path, 'Member must not be null');
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    errors.add(value, path, 'Member must be a number');
    return undefined;
  }
  let ok = true;
  if (rule.min !== undefined && value < rule.min) {
    errors.add(renderDouble(value), path, `Member must have value greater than or equal to ${rule.min}`);
    ok = false;
  }
  if (rule.max !== undefined && value > rule.max) {
    errors.add(renderDouble(value), path, `Member must have value less than or equal to ${rule.max}`);
    ok = false;
  }
  if (ok && decimals(value) > rule.decimals) {
    errors.add(renderDouble(value), path, `Member must have at most ${rule.decimals === 1 ? 'one digit' : `${rule.decimals} digits`} after the decimal point`);
    ok = false;
  }
  return ok ? value : undefined;
}

/**
 * UpdateJob's retry rules (jobs.md §2.6): retries may only be lowered to 0, only for the failure
 * types the job was created with. `update` has passed checkJobConfigs.
 */
export function checkRetryConfigUpdate(existing: JobExecutionsRetryConfig | undefined, update: JobExecutionsRetryConfig): void {
  const fail = (message: string) => {
    throw new DomainError('InvalidRequestException', message);
  };
  if (update.criteriaList.some((c) => c.numberOfRetries !== 0)) fail('The number of retries cannot be updated to any number other than 0.');
  if (!existing) fail('RetryConfig cannot be updated if the job has no RetryConfig defined during creation.');
  const types = update.criteriaList.map((c) => c.failureType);
  if (types.includes('ALL') && types.length > 1) fail(RETRY_ALL_ALONE_MESSAGE);
  const had = new Set(existing!.criteriaList.map((c) => c.failureType));
  const now = new Set(types);
  if (had.size !== now.size || [...now].some((t) => !had.has(t))) fail('FailureTypes must match existing FailureTypes defined in RetryConfig.');
}

/** destinationPackageVersions (packages.md §11.1): ≤ 25 package version ARNs, each 1–1600 chars `^arn:[!-~]+$`. */
export function checkDestinationPackageVersions(errors: FieldErrors, value: unknown): string[] | undefined {
  const list = errors.array(value, 'destinationPackageVersions', { max: 25 });
  if (!list) return undefined;
  const before = errors.messages.length;
  const out: string[] = [];
  list.forEach((item, i) => {
    const arn = errors.string(item, `destinationPackageVersions.${i + 1}.member`, {
      required: true,
      min: 1,
      max: 1600,
      pattern: PACKAGE_VERSION_ARN,
      patternText: '^arn:[!-~]+$',
    });
    if (arn !== undefined) out.push(arn);
  });
  return errors.messages.length === before ? out : undefined;
}
