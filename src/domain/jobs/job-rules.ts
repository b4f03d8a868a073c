import { splitIotArn, type Arns } from '../arns.js';
import { DomainError, notFound } from '../errors.js';
import { checkName } from '../things/thing-rules.js';
import { FieldErrors, NO_CONTROL_CHARS, NO_CONTROL_CHARS_TEXT } from '../validation.js';

/** Member rules of the jobs control plane (jobs.md §2, §8; ranges and patterns from the model). */

export const JOB_STATUSES = ['IN_PROGRESS', 'CANCELED', 'COMPLETED', 'DELETION_IN_PROGRESS', 'SCHEDULED'] as const;
export const TARGET_SELECTIONS = ['CONTINUOUS', 'SNAPSHOT'] as const;
export const MAX_TARGETS = 100;
export const MAX_DOCUMENT_CHARS = 32768;
/** Jobs in DELETION_IN_PROGRESS at once (jobs.md §2.5). */
export const MAX_DELETIONS_IN_PROGRESS = 10;

const ID = /^[a-zA-Z0-9_-]+$/;

export const jobNotFound = (jobId: string) => notFound(`Job ${jobId} cannot be found.`);

export function checkJobId(errors: FieldErrors, value: unknown): string {
  return errors.string(value, 'jobId', { required: true, min: 1, max: 64, pattern: ID, patternText: '[a-zA-Z0-9_-]+' }) ?? '';
}

export function checkThingName(errors: FieldErrors, value: unknown): string {
  return checkName(errors, value, 'thingName') ?? '';
}

export function checkDescription(errors: FieldErrors, value: unknown): string | undefined {
  return errors.string(value, 'description', { max: 2028, pattern: NO_CONTROL_CHARS, patternText: NO_CONTROL_CHARS_TEXT });
}

export function checkComment(errors: FieldErrors, value: unknown): string | undefined {
  return errors.string(value, 'comment', { max: 2028, pattern: NO_CONTROL_CHARS, patternText: NO_CONTROL_CHARS_TEXT });
}

export function checkReasonCode(errors: FieldErrors, value: unknown): string | undefined {
  return errors.string(value, 'reasonCode', { max: 128, pattern: /^[\p{Lu}\p{Nd}_]+$/u, patternText: '[\\p{Upper}\\p{Digit}_]+' });
}

export function checkNamespaceId(errors: FieldErrors, value: unknown): string | undefined {
  return errors.string(value, 'namespaceId', { min: 1, max: 64, pattern: ID, patternText: '[a-zA-Z0-9_-]+' });
}

export function checkTargetsList(errors: FieldErrors, value: unknown): string[] | undefined {
  const list = errors.array(value, 'targets', { required: true, min: 1 });
  if (!list) return undefined;
  const before = errors.messages.length;
  const out = list.map((t, i) => errors.string(t, `targets.${i + 1}.member`, { required: true, max: 2048 }) ?? '');
  return errors.messages.length === before ? out : undefined;
}

/** A boolean query member (`?force=true`): booleans arrive parsed, anything else is refused. */
export function checkFlag(errors: FieldErrors, value: unknown, path: string): boolean {
  return errors.boolean(value, path) ?? false;
}

export interface ParsedTarget {
  arn: string;
  type: 'thing' | 'thinggroup';
  name: string;
}

/**
 * Splits a target ARN. Something that is not a thing or thing-group ARN is a bad request; one of
 * another account or region names nothing that exists here (jobs.md §2.2).
 */
export function parseTarget(arns: Arns, arn: string): ParsedTarget {
  const parts = splitIotArn(arn);
  if (!parts || (parts.resourceType !== 'thing' && parts.resourceType !== 'thinggroup') || parts.resource.includes('/')) {
    throw new DomainError('InvalidRequestException', `Target ${arn} is not a thing or thing group ARN.`);
  }
  const parsed = arns.parse(arn);
  if (!parsed) throw new DomainError('ResourceNotFoundException', `Target ${arn} cannot be found.`);
  return { arn, type: parsed.resourceType as 'thing' | 'thinggroup', name: parsed.path[0] };
}
