import type { DomainContext } from '../context.js';
import type { DocumentChanges } from '../indexing/document-changes.js';
import { BillingGroupService } from './billing-group-service.js';
import { MembershipEvents, type MembershipListener } from './membership-events.js';
import { MembershipService } from './membership-service.js';
import { ThingGroupService } from './thing-group-service.js';
import { DEFAULT_REGISTRY_LIMITS, type RegistryLimits } from './thing-rules.js';
import { ThingService } from './thing-service.js';
import { ThingTypeService } from './thing-type-service.js';

/**
 * The thing registry's services, sharing one set of membership listeners: whoever needs to react
 * to things joining or leaving groups (CONTINUOUS jobs) registers once here.
 */
export class ThingRegistry {
  readonly things: ThingService;
  readonly thingTypes: ThingTypeService;
  readonly groups: ThingGroupService;
  readonly membership: MembershipService;
  readonly billingGroups: BillingGroupService;
  /** Membership changes, static and dynamic, go to every listener through this. */
  readonly events = new MembershipEvents();
  readonly limits: RegistryLimits;

  constructor(ctx: DomainContext, documents: DocumentChanges, limits: Partial<RegistryLimits> = {}) {
    const l = { ...DEFAULT_REGISTRY_LIMITS, ...limits };
    this.limits = l;
    this.things = new ThingService(ctx, l, this.events, documents);
    this.thingTypes = new ThingTypeService(ctx, l);
    this.groups = new ThingGroupService(ctx, l, this.events, documents);
    this.membership = new MembershipService(ctx, l, this.events, documents);
    this.billingGroups = new BillingGroupService(ctx, documents);
  }

  addMembershipListener(listener: MembershipListener): void {
    this.events.add(listener);
  }
}
