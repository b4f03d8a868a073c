import type { PolicyWithDocument } from '../../store/policies.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { dynamicGroupRefused } from '../things/thing-rules.js';
import { thingNotFound } from '../things/thing-service.js';
import { checkPageSize, checkPolicyName, decodeMarker, markerPage, MAX_POLICIES_PER_CERTIFICATE, MAX_POLICIES_PER_THING_GROUP, policyErrors, policyNotFound, type PolicyChangeFeed } from './policy-rules.js';
import { requirePolicy } from './policy-service.js';
import { groupAndAncestors, groupsOfThing, parseTarget, targetExists, targetNotFound, type PolicyPrincipals, type PolicyTarget } from './policy-targets.js';

/** Who a device connection is, for its effective policies: its certificate and the thing it acts for. */
export interface PolicyPrincipal {
  certificateArn?: string;
  thingName?: string;
}

/**
 * Policy attachments (issue 11 item 4): AttachPolicy, DetachPolicy, ListAttachedPolicies,
 * ListTargetsForPolicy, GetEffectivePolicies, and the effective policies of a device connection —
 * its certificate's and those of its thing's groups and their ancestors (device-security.md §5.2).
 */
export class PolicyAttachmentService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly principals: PolicyPrincipals,
    private readonly changes: PolicyChangeFeed,
  ) {}

  async attachPolicy(input: { policyName?: unknown; target?: unknown }): Promise<Record<string, never>> {
    const { name, target } = this.nameAndTarget(input);
    return this.ctx.store.transaction(async (tx) => {
      if (!(await tx.policies.getForShare(name))) throw policyNotFound();
      if (!(await targetExists(tx, this.principals, target))) throw targetNotFound(target.arn);
      // AWS: attaching a policy to a dynamic group "generates an exception" (fleet-indexing.md §8.2).
      if (target.kind === 'thinggroup' && (await tx.thingGroups.get(target.groupName))?.query_string != null) throw dynamicGroupRefused(this.ctx.arns.thingGroup(target.groupName));
      const limit = target.kind === 'cert' ? MAX_POLICIES_PER_CERTIFICATE : MAX_POLICIES_PER_THING_GROUP;
      await tx.policies.lockTarget(target.arn);
      // Attaching twice is a no-op; the new attachment rolls back when it is one too many.
      if (!(await tx.policies.attach({ target: target.arn, policy_name: name, attached_at: this.ctx.clock.now() }))) return {};
      if ((await tx.policies.countForTarget(target.arn)) > limit) {
        throw new DomainError('LimitExceededException', `The target ${target.arn} already has the maximum number of attached policies (${limit})`);
      }
      await this.changes.record(tx);
      return {};
    });
  }

  /** The model lists no ResourceNotFoundException: detaching what is not attached succeeds. */
  async detachPolicy(input: { policyName?: unknown; target?: unknown }): Promise<Record<string, never>> {
    const { name, target } = this.nameAndTarget(input);
    return this.ctx.store.transaction(async (tx) => {
      if (await tx.policies.detach(target.arn, name)) await this.changes.record(tx);
      return {};
    });
  }

  async listAttachedPolicies(input: { target?: unknown; recursive?: unknown; marker?: string; pageSize?: unknown }) {
    const e = policyErrors();
    const raw = e.string(input.target, 'target', { required: true, max: 2048 });
    const limit = checkPageSize(e, input.pageSize);
    const recursive = e.boolean(input.recursive, 'recursive') === true;
    e.throwIfAny();
    const target = parseTarget(this.ctx.arns, raw!);
    const after = decodeMarker('attached-policies', input.marker);
    const store = this.ctx.store;
    if (!(await targetExists(store, this.principals, target))) throw targetNotFound(target.arn);
    const targets = recursive && target.kind === 'thinggroup' ? await groupAndAncestors(store, this.ctx.arns, target.groupName) : [target.arn];
    const rows = await store.policies.attachedTo(targets, after, limit + 1);
    const { items, nextMarker } = markerPage(rows, limit, 'attached-policies', (r) => r.policy_name);
    return { policies: items.map((r) => ({ policyName: r.policy_name, policyArn: this.ctx.arns.policy(r.policy_name) })), nextMarker };
  }

  async listTargetsForPolicy(input: { policyName?: unknown; marker?: string; pageSize?: unknown }) {
    const e = policyErrors();
    const name = checkPolicyName(e, input.policyName);
    const limit = checkPageSize(e, input.pageSize);
    e.throwIfAny();
    const after = decodeMarker('policy-targets', input.marker);
    await requirePolicy(this.ctx.store, name!);
    const rows = await this.ctx.store.policies.targets(name!, after, limit + 1);
    const { items, nextMarker } = markerPage(rows, limit, 'policy-targets', (t) => t);
    return { targets: items, nextMarker };
  }

  async getEffectivePolicies(input: { principal?: unknown; cognitoIdentityPoolId?: unknown; thingName?: unknown }) {
    const e = policyErrors();
    const principal = e.string(input.principal, 'principal', { max: 2048 });
    const thingName = e.string(input.thingName, 'thingName', { min: 1, max: 128, pattern: /^[a-zA-Z0-9:_-]+$/, patternText: '[a-zA-Z0-9:_-]+' });
    e.string(input.cognitoIdentityPoolId, 'cognitoIdentityPoolId', { max: 128 });
    e.throwIfAny();
    if (principal === undefined && thingName === undefined) throw new DomainError('InvalidRequestException', 'A principal or a thingName is required.');
    const certificateArn = principal !== undefined ? await this.requireCertificate(principal) : undefined;
    if (thingName !== undefined && !(await this.ctx.store.things.get(thingName))) throw thingNotFound(thingName);
    const policies = await this.effectivePolicies({ certificateArn, thingName });
    return { effectivePolicies: policies.map((p) => ({ policyName: p.policy_name, policyArn: this.ctx.arns.policy(p.policy_name), policyDocument: p.document })) };
  }

  /** The policies a device connection acts under: its certificate's and its thing's groups' (with their default documents). */
  async effectivePolicies(principal: PolicyPrincipal, store: Store = this.ctx.store): Promise<PolicyWithDocument[]> {
    const targets = [
      ...(principal.certificateArn !== undefined ? [principal.certificateArn] : []),
      ...(principal.thingName !== undefined ? await groupsOfThing(store, this.ctx.arns, principal.thingName) : []),
    ];
    return store.policies.attachedTo(targets, undefined, 10_000);
  }

  /** The certificate ARN a `principal` member names; InvalidRequestException for anything else, ResourceNotFoundException for an unknown one. */
  async requireCertificate(principal: string): Promise<string> {
    const target = parseTarget(this.ctx.arns, principal);
    if (target.kind !== 'cert') throw new DomainError('InvalidRequestException', `Invalid principal: ${principal}`);
    if (!(await targetExists(this.ctx.store, this.principals, target))) throw targetNotFound(target.arn);
    return target.arn;
  }

  private nameAndTarget(input: { policyName?: unknown; target?: unknown }): { name: string; target: PolicyTarget } {
    const e = policyErrors();
    const name = checkPolicyName(e, input.policyName);
    const raw = e.string(input.target, 'target', { required: true, max: 2048 });
    e.throwIfAny();
    return { name: name!, target: parseTarget(this.ctx.arns, raw!) };
  }
}
