import { randomUUID } from 'node:crypto';
import type { Store } from '../../store/store.js';
import type { ThingRow } from '../../store/things.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { decodeToken, isString, page, pageSize } from '../pagination.js';
import { FieldErrors } from '../validation.js';
import { requireBillingGroupForShare } from './billing-group-service.js';
import type { DocumentChanges } from '../indexing/document-changes.js';
import type { MembershipEvents } from './membership-events.js';
import {
  applyAttributes,
  ATTRIBUTE_NAME,
  ATTRIBUTE_VALUE,
  checkAttributePayload,
  checkExpectedVersion,
  checkName,
  checkThingAttributeCount,
  parseAttributes,
  sameAttributes,
  thingTypeNotFound,
  type RegistryLimits,
} from './thing-rules.js';

const errors = () => new FieldErrors('InvalidRequestException');

export const thingNotFound = (name: string) => new DomainError('ResourceNotFoundException', `Thing ${name} cannot be found.`);

export async function requireThing(store: Store, name: string, lock = false): Promise<ThingRow> {
  const row = lock ? await store.things.getForUpdate(name) : await store.things.get(name);
  if (!row) throw thingNotFound(name);
  return row;
}

export interface CreateThingInput {
  thingName?: unknown;
  thingTypeName?: unknown;
  attributePayload?: unknown;
  billingGroupName?: unknown;
}

export interface UpdateThingInput {
  thingName?: unknown;
  thingTypeName?: unknown;
  attributePayload?: unknown;
  expectedVersion?: unknown;
  removeThingType?: unknown;
}

export interface ListThingsInput {
  maxResults?: unknown;
  nextToken?: string;
  attributeName?: unknown;
  attributeValue?: unknown;
  thingTypeName?: unknown;
  usePrefixAttributeValue?: unknown;
}

/** CreateThing, DescribeThing, UpdateThing, DeleteThing, ListThings (things-and-shadows.md §3). */
export class ThingService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly limits: RegistryLimits,
    private readonly events: MembershipEvents,
    private readonly documents: DocumentChanges,
  ) {}

  async createThing(input: CreateThingInput) {
    const e = errors();
    const name = checkName(e, input.thingName, 'thingName');
    const typeName = checkName(e, input.thingTypeName, 'thingTypeName', false);
    const billingGroupName = checkName(e, input.billingGroupName, 'billingGroupName', false);
    // `merge` only means something on updates (§3.2): a create always starts from nothing.
    const payload = checkAttributePayload(e, input.attributePayload, 'attributePayload');
    e.throwIfAny();
    const attributes = applyAttributes({}, payload && { ...payload, merge: false });
    const thingName = name!;

    return this.ctx.store.transaction(async (tx) => {
      const type = typeName === undefined ? undefined : await tx.thingTypes.getForShare(typeName);
      if (typeName !== undefined && !type) throw thingTypeNotFound(typeName);
      // Share-locked: the billing group is not deleted while the thing joins it.
      if (billingGroupName !== undefined) await requireBillingGroupForShare(tx, billingGroupName);

      const answer = (row: ThingRow) => ({ thingName: row.thing_name, thingArn: this.ctx.arns.thing(row.thing_name), thingId: row.thing_id });
      const sameOrRefuse = (row: ThingRow) => {
        const same = row.thing_type_name === (typeName ?? null)
          && row.billing_group_name === (billingGroupName ?? null)
          && sameAttributes(parseAttributes(row.attributes), attributes);
        if (!same) {
          throw new DomainError('ResourceAlreadyExistsException', `Thing ${thingName} already exists in account with different attributes`, {
            resourceId: row.thing_id,
            resourceArn: this.ctx.arns.thing(thingName),
          });
        }
        return answer(row);
      };

      const existing = await tx.things.get(thingName);
      if (existing) return sameOrRefuse(existing);
      if (type?.deprecated) {
        // AWS's own spelling (things-and-shadows.md §3.3).
        throw new DomainError('InvalidRequestException', `Can not create new thing with depreated thing type:${typeName}`);
      }
      checkThingAttributeCount(attributes, typeName !== undefined, this.limits);
      const row: ThingRow = {
        thing_name: thingName,
        thing_id: randomUUID(),
        thing_type_name: typeName ?? null,
        billing_group_name: billingGroupName ?? null,
        attributes: JSON.stringify(attributes),
        version: 1,
        created_at: this.ctx.clock.now(),
      };
      if (await tx.things.insert(row, attributes)) {
        // A new thing may match any dynamic group (`NOT …` queries match what it lacks).
        await this.documents.changed(tx, thingName, 'all');
        return answer(row);
      }
      // A concurrent create of the same name committed first: answer as if it had come before us.
      return sameOrRefuse(await requireThing(tx, thingName));
    });
  }

  async describeThing(input: { thingName?: unknown }) {
    const e = errors();
    const name = checkName(e, input.thingName, 'thingName');
    e.throwIfAny();
    const row = await requireThing(this.ctx.store, name!);
    return {
      defaultClientId: row.thing_name,
      thingName: row.thing_name,
      thingId: row.thing_id,
      thingArn: this.ctx.arns.thing(row.thing_name),
      ...(row.thing_type_name !== null ? { thingTypeName: row.thing_type_name } : {}),
      attributes: parseAttributes(row.attributes),
      // Always sent: the JS SDK does not default a missing version to 0 (§1.7).
      version: row.version,
      ...(row.billing_group_name !== null ? { billingGroupName: row.billing_group_name } : {}),
    };
  }

  async updateThing(input: UpdateThingInput): Promise<Record<string, never>> {
    const e = errors();
    const name = checkName(e, input.thingName, 'thingName');
    const typeName = checkName(e, input.thingTypeName, 'thingTypeName', false);
    const payload = checkAttributePayload(e, input.attributePayload, 'attributePayload');
    const expectedVersion = checkExpectedVersion(e, input.expectedVersion);
    const removeThingType = e.boolean(input.removeThingType, 'removeThingType') ?? false;
    e.throwIfAny();
    if (removeThingType && typeName !== undefined) {
      throw new DomainError('InvalidRequestException', 'You cannot specify a thingTypeName and set removeThingType to true at the same time.');
    }
    const thingName = name!;

    return this.ctx.store.transaction(async (tx) => {
      const thing = await requireThing(tx, thingName, true);
      if (expectedVersion !== undefined && expectedVersion !== thing.version) {
        throw new DomainError('VersionConflictException', `The version for thing ${thingName} does not match the expected version.`);
      }
      let newType = thing.thing_type_name;
      if (removeThingType) newType = null;
      else if (typeName !== undefined && typeName !== thing.thing_type_name) {
        const type = await tx.thingTypes.getForShare(typeName);
        if (!type) throw thingTypeNotFound(typeName);
        if (type.deprecated) throw new DomainError('InvalidRequestException', `Can not update a thing to use deprecated thing type: ${typeName}`);
        newType = typeName;
      }
      const current = parseAttributes(thing.attributes);
      const attributes = applyAttributes(current, payload);
      // The limit applies to the resulting set: removing the type brings the 3-attribute limit back.
      checkThingAttributeCount(attributes, newType !== null, this.limits);
      await tx.things.update(thingName, {
        version: thing.version + 1,
        ...(newType !== thing.thing_type_name ? { thing_type_name: newType } : {}),
        ...(attributes !== current ? { attributes } : {}),
      });
      await this.documents.changed(tx, thingName, ['registry']);
      return {};
    });
  }

  async deleteThing(input: { thingName?: unknown; expectedVersion?: unknown }): Promise<Record<string, never>> {
    const e = errors();
    const name = checkName(e, input.thingName, 'thingName');
    const expectedVersion = checkExpectedVersion(e, input.expectedVersion);
    e.throwIfAny();
    const thingName = name!;
    return this.ctx.store.transaction(async (tx) => {
      const thing = await tx.things.getForUpdate(thingName);
      if (!thing) {
        if (this.limits.deleteMissingThingSucceeds) return {};
        throw thingNotFound(thingName);
      }
      if (expectedVersion !== undefined && expectedVersion !== thing.version) {
        throw new DomainError('VersionConflictException', `The version for thing ${thingName} does not match the expected version.`);
      }
      if ((await tx.thingPrincipals.countOfThing(thingName)) > 0) {
        throw new DomainError('InvalidRequestException', `Cannot delete. Thing ${thingName} is still attached to one or more principals`);
      }
      await this.events.deleted(tx, thingName);
      await tx.thingGroups.removeThing(thingName);
      await tx.things.delete(thingName);
      await tx.tags.removeAll(this.ctx.arns.thing(thingName));
      return {};
    });
  }

  async listThings(input: ListThingsInput) {
    const e = errors();
    const limit = pageSize(e, input.maxResults, 250, 50);
    const attributeName = e.string(input.attributeName, 'attributeName', ATTRIBUTE_NAME);
    const attributeValue = e.string(input.attributeValue, 'attributeValue', ATTRIBUTE_VALUE);
    const thingTypeName = checkName(e, input.thingTypeName, 'thingTypeName', false);
    const prefix = e.boolean(input.usePrefixAttributeValue, 'usePrefixAttributeValue') ?? false;
    e.throwIfAny();
    if (attributeValue !== undefined && attributeName === undefined) {
      throw new DomainError('InvalidRequestException', 'attributeValue can only be used together with attributeName.');
    }
    const after = decodeToken('things', input.nextToken, 'InvalidRequestException', isString);
    const rows = await this.ctx.store.things.list({ thingTypeName, attributeName, attributeValue, prefix }, after, limit + 1);
    const { items, nextToken } = page(rows, limit, 'things', (r) => r.thing_name);
    return {
      things: items.map((r) => ({
        thingName: r.thing_name,
        ...(r.thing_type_name !== null ? { thingTypeName: r.thing_type_name } : {}),
        thingArn: this.ctx.arns.thing(r.thing_name),
        attributes: parseAttributes(r.attributes),
        version: r.version,
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }
}
