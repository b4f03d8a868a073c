import type { Store } from '../../store/store.js';
import { splitIotArn, type Arns } from '../arns.js';
import { DomainError } from '../errors.js';
import { pathNames } from '../things/thing-group-service.js';
import { NAME } from '../things/thing-rules.js';

/**
 * What a policy can be attached to (device-security.md §2): a certificate ARN or a thing-group
 * ARN of this account and region. Certificates are looked up through the `PolicyPrincipals` port,
 * so that the policy operations do not depend on how certificates are stored.
 */
export type PolicyTarget = { kind: 'cert'; arn: string; certificateId: string } | { kind: 'thinggroup'; arn: string; groupName: string };

export interface PolicyPrincipals {
  /** Whether `arn` (a well-formed certificate ARN of this account and region) names a certificate that exists. */
  principalExists(store: Store, arn: string): Promise<boolean>;
}

/** The registered certificates (CreateKeysAndCertificate, RegisterCertificate, …): the ARN's id must name one. */
export const registeredCertificates: PolicyPrincipals = {
  principalExists: async (store, arn) => {
    const id = arn.slice(arn.lastIndexOf('/') + 1).toLowerCase();
    return (await store.certificates.get(id)) !== undefined;
  },
};

const CERTIFICATE_ID = /^(0x)?[a-fA-F0-9]{64}$/;

const invalidTarget = (target: string) => new DomainError('InvalidRequestException', `Invalid target: ${target}. A target must be a certificate ARN or a thing group ARN.`);
export const targetNotFound = (target: string) => new DomainError('ResourceNotFoundException', `The target ${target} does not exist.`);

/** Reads a target; InvalidRequestException when it is no certificate or thing-group ARN, ResourceNotFoundException for another account's or region's. */
export function parseTarget(arns: Arns, target: string): PolicyTarget {
  const parts = splitIotArn(target);
  if (!parts) throw invalidTarget(target);
  if (parts.resourceType === 'cert' && CERTIFICATE_ID.test(parts.resource)) {
    if (!arns.owns(parts)) throw targetNotFound(target);
    // Ids are looked up lower-cased (device-security.md §2).
    const certificateId = parts.resource.replace(/^0x/, '').toLowerCase();
    return { kind: 'cert', arn: arns.certificate(certificateId), certificateId };
  }
  if (parts.resourceType === 'thinggroup' && NAME.pattern.test(parts.resource) && parts.resource.length <= NAME.max) {
    if (!arns.owns(parts)) throw targetNotFound(target);
    return { kind: 'thinggroup', arn: arns.thingGroup(parts.resource), groupName: parts.resource };
  }
  throw invalidTarget(target);
}

/** Whether the target exists now. */
export async function targetExists(store: Store, principals: PolicyPrincipals, target: PolicyTarget): Promise<boolean> {
  if (target.kind === 'cert') return principals.principalExists(store, target.arn);
  return (await store.thingGroups.get(target.groupName)) !== undefined;
}

/** The ARNs of the group and its ancestors (empty when the group does not exist). */
export async function groupAndAncestors(store: Store, arns: Arns, groupName: string): Promise<string[]> {
  const row = await store.thingGroups.get(groupName);
  return row ? pathNames(row.path).map((n) => arns.thingGroup(n)) : [];
}

/** The ARNs of every group the thing is in, directly or through a sub-group. */
export async function groupsOfThing(store: Store, arns: Arns, thingName: string): Promise<string[]> {
  const direct = await store.thingGroups.getMany(await store.thingGroups.directGroupNamesOf(thingName));
  const names = new Set<string>();
  for (const g of direct) for (const n of pathNames(g.path)) names.add(n);
  return [...names].sort().map((n) => arns.thingGroup(n));
}
