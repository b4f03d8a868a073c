import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { decodeToken, isString, page, pageSize } from '../pagination.js';
import { FieldErrors } from '../validation.js';
import type { MembershipEvents } from './membership-events.js';
import { requireGroup } from './thing-group-service.js';
import { checkReference, resolveReference } from './references.js';
import { checkName, dynamicGroupRefused, NAME, thingGroupNotFound, type RegistryLimits } from './thing-rules.js';
import type { DocumentChanges } from '../indexing/document-changes.js';
import { requireThing } from './thing-service.js';

const errors = () => new FieldErrors('InvalidRequestException');
const invalid = (message: string) => new DomainError('InvalidRequestException', message);


export interface MembershipInput {
  thingGroupName?: unknown;
  thingGroupArn?: unknown;
  thingName?: unknown;
  thingArn?: unknown;
  overrideDynamicGroups?: unknown;
}

/**
 * AddThingToThingGroup, RemoveThingFromThingGroup, UpdateThingGroupsForThing and the two
 * membership listings (§4.3). Every real change is reported to the membership listeners in the
 * same transaction; no-ops (adding a member, removing a non-member) are not.
 */
export class MembershipService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly limits: RegistryLimits,
    private readonly events: MembershipEvents,
    private readonly documents: DocumentChanges,
  ) {}

  async addThingToThingGroup(input: MembershipInput): Promise<Record<string, never>> {
    const { thingName, groupName, override } = this.checkPair(input);
    return this.ctx.store.transaction(async (tx) => {
      await this.changeGroups(tx, thingName, [groupName], [], override);
      return {};
    });
  }

  async removeThingFromThingGroup(input: MembershipInput): Promise<Record<string, never>> {
    const { thingName, groupName } = this.checkPair(input);
    return this.ctx.store.transaction(async (tx) => {
      await this.changeGroups(tx, thingName, [], [groupName]);
      return {};
    });
  }

  async updateThingGroupsForThing(input: { thingName?: unknown; thingGroupsToAdd?: unknown; thingGroupsToRemove?: unknown; overrideDynamicGroups?: unknown }): Promise<Record<string, never>> {
    const e = errors();
    const thingName = checkName(e, input.thingName, 'thingName');
    const toAdd = this.checkNameList(e, input.thingGroupsToAdd, 'thingGroupsToAdd');
    const toRemove = this.checkNameList(e, input.thingGroupsToRemove, 'thingGroupsToRemove');
    const override = e.boolean(input.overrideDynamicGroups, 'overrideDynamicGroups') === true;
    e.throwIfAny();
    const both = toAdd.find((g) => toRemove.includes(g));
    if (both !== undefined) throw invalid(`Thing group ${both} cannot be both added and removed in the same request.`);
    return this.ctx.store.transaction(async (tx) => {
      await this.changeGroups(tx, thingName!, toAdd, toRemove, override);
      return {};
    });
  }

  async listThingsInThingGroup(input: { thingGroupName?: unknown; recursive?: unknown; maxResults?: unknown; nextToken?: string }) {
    const e = errors();
    const name = checkName(e, input.thingGroupName, 'thingGroupName');
    const recursive = e.boolean(input.recursive, 'recursive') ?? false;
    const limit = pageSize(e, input.maxResults, 250, 50);
    e.throwIfAny();
    const after = decodeToken('things-in-thing-group', input.nextToken, 'InvalidRequestException', isString);
    const group = await requireGroup(this.ctx.store, name!);
    const names = recursive
      ? await this.ctx.store.thingGroups.listMembersInTree(group.path, after, limit + 1)
      : await this.ctx.store.thingGroups.listMembers(group.group_name, after, limit + 1);
    const { items, nextToken } = page(names, limit, 'things-in-thing-group', (n) => n);
    return { things: items, ...(nextToken ? { nextToken } : {}) };
  }

  async listThingGroupsForThing(input: { thingName?: unknown; maxResults?: unknown; nextToken?: string }) {
    const e = errors();
    const name = checkName(e, input.thingName, 'thingName');
    const limit = pageSize(e, input.maxResults, 250, 50);
    e.throwIfAny();
    const after = decodeToken('thing-groups-for-thing', input.nextToken, 'InvalidRequestException', isString);
    await requireThing(this.ctx.store, name!);
    const names = await this.ctx.store.thingGroups.listGroupsOfThing(name!, after, limit + 1);
    const { items, nextToken } = page(names, limit, 'thing-groups-for-thing', (n) => n);
    return {
      thingGroups: items.map((g) => ({ groupName: g, groupArn: this.ctx.arns.thingGroup(g) })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  /**
   * Validates everything first (thing, every group, the resulting count), then applies removals
   * and additions, then tells the listeners once with what really changed. The thing row is locked
   * so concurrent changes to one thing's groups cannot both pass the 10-group check.
   */
  private async changeGroups(tx: Store, thingName: string, add: string[], remove: string[], override = false): Promise<void> {
    await requireThing(tx, thingName, true);
    const wanted = [...new Set([...add, ...remove])];
    const groups = await tx.thingGroups.getManyForShare(wanted);
    const found = new Set(groups.map((g) => g.group_name));
    const missing = wanted.find((g) => !found.has(g));
    if (missing !== undefined) throw thingGroupNotFound(missing);
    // Dynamic groups' members follow their queries only (fleet-indexing.md §8.2).
    const dynamic = groups.find((g) => g.query_string !== null);
    if (dynamic) throw dynamicGroupRefused(this.ctx.arns.thingGroup(dynamic.group_name));

    const current = new Set(await tx.thingGroups.directGroupNamesOf(thingName));
    const left = [...new Set(remove)].filter((g) => current.has(g));
    const joined = [...new Set(add)].filter((g) => !current.has(g));
    const evicted: string[] = [];
    let resulting = current.size - left.length + joined.length;
    if (joined.length > 0 && resulting > this.limits.maxGroupsPerThing && override) {
      // overrideDynamicGroups: the thing leaves its most recently created dynamic groups (§8.3).
      for (const g of await tx.dynamicGroups.dynamicGroupsOf(thingName)) {
        if (resulting <= this.limits.maxGroupsPerThing) break;
        evicted.push(g.group_name);
        resulting--;
      }
    }
    if (joined.length > 0 && resulting > this.limits.maxGroupsPerThing) {
      throw invalid(`Thing ${thingName} cannot be added to more than ${this.limits.maxGroupsPerThing} thing groups.`);
    }
    for (const g of [...left, ...evicted]) await tx.thingGroups.removeMember(g, thingName);
    const now = this.ctx.clock.now();
    for (const g of joined) await tx.thingGroups.addMember(g, thingName, now);
    await this.events.changed(tx, thingName, joined, [...left, ...evicted]);
    if (joined.length === 0 && left.length === 0) return;
    // Dynamic queries reading thingGroupNames follow; a thing that was at the limit may now fit
    // dynamic groups it was refused (§8.3).
    const wasFull = current.size >= this.limits.maxGroupsPerThing && resulting < this.limits.maxGroupsPerThing;
    await this.documents.changed(tx, thingName, wasFull ? 'all' : ['groups']);
  }

  private checkNameList(e: FieldErrors, value: unknown, path: string): string[] {
    const list = e.array(value, path);
    if (!list) return [];
    const out: string[] = [];
    list.forEach((item, i) => {
      const name = e.string(item, `${path}.${i + 1}.member`, { required: true, ...NAME });
      if (name !== undefined) out.push(name);
    });
    return out;
  }

  /** Each side by name or ARN; both given must agree (§4.3). */
  private checkPair(input: MembershipInput): { thingName: string; groupName: string; override: boolean } {
    const e = errors();
    const thing = checkReference(e, 'thing', input as Record<string, unknown>);
    const group = checkReference(e, 'thinggroup', input as Record<string, unknown>);
    const override = e.boolean(input.overrideDynamicGroups, 'overrideDynamicGroups') === true;
    e.throwIfAny();
    return { groupName: resolveReference(this.ctx.arns, group), thingName: resolveReference(this.ctx.arns, thing), override };
  }
}
