import type { DocumentChanges } from '../indexing/document-changes.js';
import { randomUUID } from 'node:crypto';
import type { BillingGroupRow } from '../../store/billing-groups.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { decodeToken, isString, page, pageSize } from '../pagination.js';
import { checkTagList } from '../tags/tag-rules.js';
import { FieldErrors } from '../validation.js';
import { checkReference, resolveReference } from './references.js';
import { checkDescription, checkExpectedVersion, checkName } from './thing-rules.js';
import { requireThing } from './thing-service.js';

const errors = () => new FieldErrors('InvalidRequestException');

export const billingGroupNotFound = (name: string) => new DomainError('ResourceNotFoundException', `Billing Group ${name} cannot be found.`);

/** The billing group, share-locked so that it is not deleted while a thing joins it. */
export async function requireBillingGroupForShare(store: Store, name: string): Promise<BillingGroupRow> {
  const row = await store.billingGroups.getForShare(name);
  if (!row) throw billingGroupNotFound(name);
  return row;
}

export interface BillingMembershipInput {
  billingGroupName?: unknown;
  billingGroupArn?: unknown;
  thingName?: unknown;
  thingArn?: unknown;
}

function checkProperties(e: FieldErrors, value: unknown, required: boolean): { description?: string } | undefined {
  const props = e.object(value, 'billingGroupProperties', required);
  if (!props) return undefined;
  return { description: checkDescription(e, props.billingGroupDescription, 'billingGroupProperties.billingGroupDescription') };
}

function checkVersion(row: BillingGroupRow, expectedVersion: number | undefined): void {
  if (expectedVersion !== undefined && expectedVersion !== row.version) {
    throw new DomainError('VersionConflictException', `The version for billing group ${row.billing_group_name} does not match the expected version.`);
  }
}

/**
 * Billing groups (issue 14 item 7): Create, Describe, Update, Delete, List, and a thing's one
 * billing group (AddThingToBillingGroup moves it from another; decision 0022).
 */
export class BillingGroupService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly documents: DocumentChanges,
  ) {}

  async createBillingGroup(input: { billingGroupName?: unknown; billingGroupProperties?: unknown; tags?: unknown }) {
    const e = errors();
    const name = checkName(e, input.billingGroupName, 'billingGroupName');
    const props = checkProperties(e, input.billingGroupProperties, false);
    const tags = checkTagList(e, input.tags, 'tags');
    e.throwIfAny();
    const groupName = name!;
    const description = props?.description === '' ? undefined : props?.description;
    return this.ctx.store.transaction(async (tx) => {
      const answer = (row: BillingGroupRow) => ({
        billingGroupName: row.billing_group_name,
        billingGroupArn: this.ctx.arns.billingGroup(row.billing_group_name),
        billingGroupId: row.billing_group_id,
      });
      // As CreateThingGroup: the same properties answer the existing group (tags are not compared).
      const sameOrRefuse = (row: BillingGroupRow) => {
        if ((row.description ?? undefined) !== description) {
          throw new DomainError('ResourceAlreadyExistsException', `Billing Group ${groupName} already exists in current account with different properties`, {
            resourceId: row.billing_group_id,
            resourceArn: this.ctx.arns.billingGroup(groupName),
          });
        }
        return answer(row);
      };
      const existing = await tx.billingGroups.get(groupName);
      if (existing) return sameOrRefuse(existing);
      const row: BillingGroupRow = {
        billing_group_name: groupName,
        billing_group_id: randomUUID(),
        description: description ?? null,
        version: 1,
        created_at: this.ctx.clock.now(),
      };
      if (!(await tx.billingGroups.insert(row))) {
        const winner = await tx.billingGroups.get(groupName);
        if (!winner) throw billingGroupNotFound(groupName);
        return sameOrRefuse(winner);
      }
      if (tags && Object.keys(tags).length > 0) await tx.tags.put(this.ctx.arns.billingGroup(groupName), tags);
      return answer(row);
    });
  }

  async describeBillingGroup(input: { billingGroupName?: unknown }) {
    const e = errors();
    const name = checkName(e, input.billingGroupName, 'billingGroupName');
    e.throwIfAny();
    const row = await this.ctx.store.billingGroups.get(name!);
    if (!row) throw billingGroupNotFound(name!);
    return {
      billingGroupName: row.billing_group_name,
      billingGroupId: row.billing_group_id,
      billingGroupArn: this.ctx.arns.billingGroup(row.billing_group_name),
      version: row.version,
      billingGroupProperties: row.description !== null ? { billingGroupDescription: row.description } : {},
      billingGroupMetadata: { creationDate: new Date(row.created_at) },
    };
  }

  async updateBillingGroup(input: { billingGroupName?: unknown; billingGroupProperties?: unknown; expectedVersion?: unknown }) {
    const e = errors();
    const name = checkName(e, input.billingGroupName, 'billingGroupName');
    const props = checkProperties(e, input.billingGroupProperties, true);
    const expectedVersion = checkExpectedVersion(e, input.expectedVersion);
    e.throwIfAny();
    const groupName = name!;
    return this.ctx.store.transaction(async (tx) => {
      const row = await tx.billingGroups.getForUpdate(groupName);
      if (!row) throw billingGroupNotFound(groupName);
      checkVersion(row, expectedVersion);
      // An absent description keeps the current one; an empty one removes it (as UpdateThingGroup).
      const description = props?.description === undefined ? row.description : props.description === '' ? null : props.description;
      const version = row.version + 1;
      await tx.billingGroups.update(groupName, { description, version });
      return { version };
    });
  }

  async deleteBillingGroup(input: { billingGroupName?: unknown; expectedVersion?: unknown }): Promise<Record<string, never>> {
    const e = errors();
    const name = checkName(e, input.billingGroupName, 'billingGroupName');
    const expectedVersion = checkExpectedVersion(e, input.expectedVersion);
    e.throwIfAny();
    const groupName = name!;
    return this.ctx.store.transaction(async (tx) => {
      const row = await tx.billingGroups.getForUpdate(groupName);
      // The model lists no ResourceNotFoundException: deleting a missing group succeeds.
      if (!row) return {};
      checkVersion(row, expectedVersion);
      await tx.billingGroups.delete(groupName);
      // Its things' thingGroupNames changed: dynamic queries reading them are swept again.
      await this.documents.manyChanged(tx, 'groups');
      await tx.tags.removeAll(this.ctx.arns.billingGroup(groupName));
      return {};
    });
  }

  async listBillingGroups(input: { maxResults?: unknown; nextToken?: string; namePrefixFilter?: unknown }) {
    const e = errors();
    const limit = pageSize(e, input.maxResults, 250, 50);
    const namePrefix = checkName(e, input.namePrefixFilter, 'namePrefixFilter', false);
    e.throwIfAny();
    const after = decodeToken('billing-groups', input.nextToken, 'InvalidRequestException', isString);
    const rows = await this.ctx.store.billingGroups.list(namePrefix, after, limit + 1);
    const { items, nextToken } = page(rows, limit, 'billing-groups', (r) => r.billing_group_name);
    return {
      billingGroups: items.map((r) => ({ groupName: r.billing_group_name, groupArn: this.ctx.arns.billingGroup(r.billing_group_name) })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  async addThingToBillingGroup(input: BillingMembershipInput): Promise<Record<string, never>> {
    const { thingName, groupName } = this.checkPair(input);
    return this.ctx.store.transaction(async (tx) => {
      await requireBillingGroupForShare(tx, groupName);
      await requireThing(tx, thingName, true);
      // A thing has at most one billing group: joining another moves it.
      await tx.billingGroups.setThingGroup(thingName, groupName);
      // thingGroupNames holds the billing group: dynamic queries on it follow.
      await this.documents.changed(tx, thingName, ['groups']);
      return {};
    });
  }

  async removeThingFromBillingGroup(input: BillingMembershipInput): Promise<Record<string, never>> {
    const { thingName, groupName } = this.checkPair(input);
    return this.ctx.store.transaction(async (tx) => {
      await requireBillingGroupForShare(tx, groupName);
      const thing = await requireThing(tx, thingName, true);
      // Removing a thing from a group it is not in changes nothing.
      if (thing.billing_group_name === groupName) {
        await tx.billingGroups.setThingGroup(thingName, null);
        await this.documents.changed(tx, thingName, ['groups']);
      }
      return {};
    });
  }

  async listThingsInBillingGroup(input: { billingGroupName?: unknown; maxResults?: unknown; nextToken?: string }) {
    const e = errors();
    const name = checkName(e, input.billingGroupName, 'billingGroupName');
    const limit = pageSize(e, input.maxResults, 250, 25);
    e.throwIfAny();
    const after = decodeToken('things-in-billing-group', input.nextToken, 'InvalidRequestException', isString);
    if (!(await this.ctx.store.billingGroups.get(name!))) throw billingGroupNotFound(name!);
    const names = await this.ctx.store.billingGroups.things(name!, after, limit + 1);
    const { items, nextToken } = page(names, limit, 'things-in-billing-group', (n) => n);
    return { things: items, ...(nextToken ? { nextToken } : {}) };
  }

  private checkPair(input: BillingMembershipInput): { thingName: string; groupName: string } {
    const e = errors();
    const thing = checkReference(e, 'thing', input as Record<string, unknown>);
    const group = checkReference(e, 'billinggroup', input as Record<string, unknown>);
    e.throwIfAny();
    return { groupName: resolveReference(this.ctx.arns, group), thingName: resolveReference(this.ctx.arns, thing) };
  }
}
