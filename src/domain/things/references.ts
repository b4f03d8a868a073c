import { splitIotArn, type Arns } from '../arns.js';
import { DomainError } from '../errors.js';
import type { FieldErrors } from '../validation.js';
import { ARN_MAX, checkName, NAME } from './thing-rules.js';

const invalid = (message: string) => new DomainError('InvalidRequestException', message);

/** A resource a registry request names by name, by ARN or by both (AddThingToThingGroup and kin). */
export interface Reference {
  kind: 'thing' | 'thinggroup' | 'billinggroup';
  nameMember: 'thingName' | 'thingGroupName' | 'billingGroupName';
  arnMember: 'thingArn' | 'thingGroupArn' | 'billingGroupArn';
  name?: string;
  arn?: string;
}

const MEMBERS = {
  thing: { nameMember: 'thingName', arnMember: 'thingArn' },
  thinggroup: { nameMember: 'thingGroupName', arnMember: 'thingGroupArn' },
  billinggroup: { nameMember: 'billingGroupName', arnMember: 'billingGroupArn' },
} as const;

/** Reads a reference of `kind` from a request's name and ARN members (both optional; resolveReference decides). */
export function checkReference(errors: FieldErrors, kind: Reference['kind'], input: Record<string, unknown>): Reference {
  const { nameMember, arnMember } = MEMBERS[kind];
  return {
    kind, nameMember, arnMember,
    name: checkName(errors, input[nameMember], nameMember, false),
    arn: errors.string(input[arnMember], arnMember, { max: ARN_MAX }),
  };
}

const LABEL = { thing: 'ThingName', thinggroup: 'ThingGroupName', billinggroup: 'BillingGroupName' } as const;
const NOT_FOUND = { thing: 'Thing', thinggroup: 'Thing Group', billinggroup: 'Billing Group' } as const;

/** The name a reference stands for: its name, or its ARN's; both must agree when both are given. */
export function resolveReference(arns: Arns, ref: Reference): string {
  if (ref.name === undefined && ref.arn === undefined) {
    throw invalid(`Both ${ref.arnMember} and ${ref.nameMember} are empty. Need to specify at least one of them`);
  }
  if (ref.arn === undefined) return ref.name!;
  const parts = splitIotArn(ref.arn);
  if (!parts || parts.resourceType !== ref.kind || !NAME.pattern.test(parts.resource)) throw invalid(`Invalid ${ref.arnMember}: ${ref.arn}`);
  const fromArn = parts.resource;
  // Well-formed but elsewhere: no such resource in this account and region.
  if (!arns.owns(parts)) throw new DomainError('ResourceNotFoundException', `${NOT_FOUND[ref.kind]} ${fromArn} cannot be found.`);
  if (ref.name !== undefined && ref.name !== fromArn) {
    throw invalid(`${LABEL[ref.kind]} ${ref.arnMember} does not match specified ${ref.nameMember} in request`);
  }
  return fromArn;
}
