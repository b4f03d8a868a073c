import type { DomainContext } from '../context.js';
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
  private readonly events = new MembershipEvents();

  constructor(ctx: DomainContext, limits: Partial<RegistryLimits> = {}) {
    const l = { ...DEFAULT_REGISTRY_LIMITS, ...limits };
    this.things = new ThingService(ctx, l, this.events);
    this.thingTypes = new ThingTypeService(ctx, l);
    this.groups = new ThingGroupService(ctx, l, this.events);
    this.membership = new MembershipService(ctx, l, this.events);
    this.billingGroups = new BillingGroupService(ctx);
  }

  addMembershipListener(listener: MembershipListener): void {
    this.events.add(listener);
  }
}
