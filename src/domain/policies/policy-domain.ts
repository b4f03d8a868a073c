import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import type { MembershipListener } from '../things/membership-events.js';
import type { ThingRegistry } from '../things/registry.js';
import type { DefaultDevicePolicy } from './default-policies.js';
import { DeviceAuthorization } from './device-authorization.js';
import { PolicyAttachmentService } from './policy-attachments.js';
import { PolicyChangeFeed } from './policy-rules.js';
import { PolicyService } from './policy-service.js';
import { TestAuthorizationService } from './test-authorization.js';
import { registeredCertificates, type PolicyPrincipals } from './policy-targets.js';

/**
 * IoT policies wired on one context: the policy and attachment services, and the feed that tells
 * the device door when what a connection may do could have changed (policy versions, attachments,
 * and, through the registry's membership listener, a thing's groups).
 */
export function createPolicyDomain(ctx: DomainContext, registry: ThingRegistry, principals: PolicyPrincipals = registeredCertificates) {
  const changes = new PolicyChangeFeed();
  const notify = (tx: Store, thingNames: string[]) => changes.record(tx, thingNames);
  const membership: MembershipListener = {
    membershipChanged: async (tx, thingName) => notify(tx, [thingName]),
    thingDeleted: async (tx, thingName) => notify(tx, [thingName]),
    membersLeft: async (tx, _group, thingNames) => notify(tx, thingNames),
    membersJoined: async (tx, _group, thingNames) => notify(tx, thingNames),
  };
  registry.addMembershipListener(membership);
  const attachments = new PolicyAttachmentService(ctx, principals, changes);
  return {
    changes,
    attachments,
    testAuthorization: new TestAuthorizationService(ctx, attachments),
    /** The device door's authorization under `--default-device-policy`. */
    deviceAuthorization: (defaultPolicy: DefaultDevicePolicy) => new DeviceAuthorization(ctx, attachments, changes, defaultPolicy),
    policies: new PolicyService(ctx, changes),
  };
}

export type PolicyDomain = ReturnType<typeof createPolicyDomain>;
