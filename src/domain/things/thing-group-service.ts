import { randomUUID } from 'node:crypto';
import type { ThingGroupRow } from '../../store/thing-groups.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { decodeToken, isString, page, pageSize } from '../pagination.js';
import { checkTagList } from '../tags/tag-rules.js';
import { FieldErrors } from '../validation.js';
import type { DocumentChanges } from '../indexing/document-changes.js';
import type { MembershipEvents } from './membership-events.js';
import {
  applyAttributes,
  checkAttributePayload,
  checkDescription,
  checkExpectedVersion,
  checkName,
  dynamicGroupRefused,
  parseAttributes,
  STATIC_GROUP,
  sameAttributes,
  thingGroupNotFound,
  type AttributePayload,
  type RegistryLimits,
} from './thing-rules.js';

const errors = () => new FieldErrors('InvalidRequestException');

/** Members are moved out of a deleted group this many at a time. */
const MEMBER_BATCH = 500;

export async function requireGroup(store: Store, name: string): Promise<ThingGroupRow> {
  const row = await store.thingGroups.get(name);
  if (!row) throw thingGroupNotFound(name);
  return row;
}

/**
 * Every member leaves the group (its deletion), in batches; listeners hear of it while the group
 * row (and its path, which names its ancestors) can still be read, though no longer with that
 * member in it.
 */
export async function removeAllMembers(tx: Store, events: MembershipEvents, groupName: string): Promise<boolean> {
  let any = false;
  for (;;) {
    const members = await tx.thingGroups.listMembers(groupName, undefined, MEMBER_BATCH);
    if (members.length === 0) return any;
    any = true;
    await tx.thingGroups.removeMembers(groupName, members);
    await events.membersLeft(tx, groupName, members);
  }
}

/** '/a/b/c/' → ['a', 'b', 'c']. */
export function pathNames(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

export interface GroupProperties {
  description?: string;
  payload?: AttributePayload;
}

export function checkProperties(e: FieldErrors, value: unknown, required: boolean): GroupProperties | undefined {
  const props = e.object(value, 'thingGroupProperties', required);
  if (!props) return undefined;
  return {
    description: checkDescription(e, props.thingGroupDescription, 'thingGroupProperties.thingGroupDescription'),
    payload: checkAttributePayload(e, props.attributePayload, 'thingGroupProperties.attributePayload'),
  };
}

/** CreateThingGroup, DescribeThingGroup, UpdateThingGroup, DeleteThingGroup, ListThingGroups (§4). */
export class ThingGroupService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly limits: RegistryLimits,
    private readonly events: MembershipEvents,
    private readonly documents: DocumentChanges,
  ) {}

  private checkAttributeCount(attributes: Record<string, string>): void {
    const n = Object.keys(attributes).length;
    if (n > this.limits.maxGroupAttributes) {
      throw new DomainError('InvalidRequestException', `A thing group can have at most ${this.limits.maxGroupAttributes} attributes; the request would give it ${n}.`);
    }
  }

  async createThingGroup(input: { thingGroupName?: unknown; parentGroupName?: unknown; thingGroupProperties?: unknown; tags?: unknown }) {
    const e = errors();
    const name = checkName(e, input.thingGroupName, 'thingGroupName');
    const parentName = checkName(e, input.parentGroupName, 'parentGroupName', false);
    const props = checkProperties(e, input.thingGroupProperties, false);
    const tags = checkTagList(e, input.tags, 'tags');
    e.throwIfAny();
    const groupName = name!;
    const description = props?.description === '' ? undefined : props?.description;
    // `merge` only means something on updates (§3.2).
    const attributes = applyAttributes({}, props?.payload && { ...props.payload, merge: false });
    this.checkAttributeCount(attributes);

    return this.ctx.store.transaction(async (tx) => {
      const answer = (row: ThingGroupRow) => ({
        thingGroupName: row.group_name,
        thingGroupArn: this.ctx.arns.thingGroup(row.group_name),
        thingGroupId: row.group_id,
      });
      // Idempotent for the same properties and parent; tags are not compared (§4.3).
      const sameOrRefuse = (row: ThingGroupRow) => {
        const same = row.query_string === null
          && (row.description ?? undefined) === description
          && row.parent_group_name === (parentName ?? null)
          && sameAttributes(parseAttributes(row.attributes), attributes);
        if (!same) {
          throw new DomainError('ResourceAlreadyExistsException', `Thing Group ${groupName} already exists in current account with different properties`, {
            resourceId: row.group_id,
            resourceArn: this.ctx.arns.thingGroup(groupName),
          });
        }
        return answer(row);
      };

      const existing = await tx.thingGroups.get(groupName);
      if (existing) return sameOrRefuse(existing);

      let parent: ThingGroupRow | undefined;
      if (parentName !== undefined) {
        // Locked: the child count below must not race another create, nor the parent's deletion.
        parent = await tx.thingGroups.getForUpdate(parentName);
        if (!parent) throw new DomainError('InvalidRequestException', `Parent thing group ${parentName} does not exist.`);
        // A dynamic group has no place in a hierarchy (fleet-indexing.md §8.2).
        if (parent.query_string !== null) throw dynamicGroupRefused(this.ctx.arns.thingGroup(parentName));
        if (parent.depth >= this.limits.maxGroupDepth) {
          throw new DomainError('InvalidRequestException', `Thing group hierarchies can be at most ${this.limits.maxGroupDepth} levels deep; ${parentName} is already at level ${parent.depth}.`);
        }
        if ((await tx.thingGroups.countChildren(parentName)) >= this.limits.maxChildGroups) {
          throw new DomainError('InvalidRequestException', `Thing group ${parentName} already has the maximum of ${this.limits.maxChildGroups} child groups.`);
        }
      }
      const row: ThingGroupRow = {
        group_name: groupName,
        group_id: randomUUID(),
        parent_group_name: parentName ?? null,
        path: `${parent?.path ?? '/'}${groupName}/`,
        depth: (parent?.depth ?? 0) + 1,
        description: description ?? null,
        attributes: JSON.stringify(attributes),
        version: 1,
        created_at: this.ctx.clock.now(),
        ...STATIC_GROUP,
      };
      if (!(await tx.thingGroups.insert(row))) return sameOrRefuse(await requireGroup(tx, groupName));
      if (tags && Object.keys(tags).length > 0) await tx.tags.put(this.ctx.arns.thingGroup(groupName), tags);
      return answer(row);
    });
  }

  async describeThingGroup(input: { thingGroupName?: unknown }) {
    const e = errors();
    const name = checkName(e, input.thingGroupName, 'thingGroupName');
    e.throwIfAny();
    const row = await requireGroup(this.ctx.store, name!);
    const attributes = parseAttributes(row.attributes);
    // A dynamic group adds its query and status (fleet-indexing.md §8.2).
    const dynamic = row.query_string === null ? {} : {
      indexName: row.index_name ?? 'AWS_Things',
      queryString: row.query_string,
      queryVersion: row.query_version ?? '2017-09-30',
      status: row.dynamic_status ?? 'ACTIVE',
    };
    // The path names every ancestor, root first; the last entry is the group itself.
    const ancestors = pathNames(row.path).slice(0, -1);
    return {
      thingGroupName: row.group_name,
      thingGroupId: row.group_id,
      thingGroupArn: this.ctx.arns.thingGroup(row.group_name),
      version: row.version,
      // Always present, `{}` when empty (§4.3).
      thingGroupProperties: {
        ...(row.description !== null ? { thingGroupDescription: row.description } : {}),
        ...(Object.keys(attributes).length > 0 ? { attributePayload: { attributes } } : {}),
      },
      thingGroupMetadata: {
        ...(row.parent_group_name !== null
          ? {
            parentGroupName: row.parent_group_name,
            rootToParentThingGroups: ancestors.map((g) => ({ groupName: g, groupArn: this.ctx.arns.thingGroup(g) })),
          }
          : {}),
        creationDate: new Date(row.created_at),
      },
      ...dynamic,
    };
  }

  async updateThingGroup(input: { thingGroupName?: unknown; thingGroupProperties?: unknown; expectedVersion?: unknown }): Promise<{ version: number }> {
    const e = errors();
    const name = checkName(e, input.thingGroupName, 'thingGroupName');
    const props = checkProperties(e, input.thingGroupProperties, true);
    const expectedVersion = checkExpectedVersion(e, input.expectedVersion);
    e.throwIfAny();
    const groupName = name!;
    return this.ctx.store.transaction(async (tx) => {
      const group = await tx.thingGroups.getForUpdate(groupName);
      if (!group) throw thingGroupNotFound(groupName);
      if (group.query_string !== null) throw dynamicGroupRefused(this.ctx.arns.thingGroup(groupName));
      if (expectedVersion !== undefined && expectedVersion !== group.version) {
        throw new DomainError('VersionConflictException', `The version for thing group ${groupName} does not match the expected version.`);
      }
      const current = parseAttributes(group.attributes);
      const attributes = applyAttributes(current, props!.payload);
      this.checkAttributeCount(attributes);
      const version = group.version + 1;
      await tx.thingGroups.update(groupName, {
        version,
        // A present description replaces the old one; an empty one clears it.
        ...(props!.description !== undefined ? { description: props!.description === '' ? null : props!.description } : {}),
        ...(attributes !== current ? { attributes: JSON.stringify(attributes) } : {}),
      });
      return { version };
    });
  }

  async deleteThingGroup(input: { thingGroupName?: unknown; expectedVersion?: unknown }): Promise<Record<string, never>> {
    const e = errors();
    const name = checkName(e, input.thingGroupName, 'thingGroupName');
    const expectedVersion = checkExpectedVersion(e, input.expectedVersion);
    e.throwIfAny();
    const groupName = name!;
    return this.ctx.store.transaction(async (tx) => {
      const group = await tx.thingGroups.getForUpdate(groupName);
      if (!group) return {};
      if (group.query_string !== null) throw dynamicGroupRefused(this.ctx.arns.thingGroup(groupName));
      if (expectedVersion !== undefined && expectedVersion !== group.version) {
        throw new DomainError('VersionConflictException', `The version for thing group ${groupName} does not match the expected version.`);
      }
      if (await tx.thingGroups.hasChildren(groupName)) {
        // AWS's text, space before the colon included (§4.3).
        throw new DomainError('InvalidRequestException', `Cannot delete thing group : ${groupName} when there are still child groups attached to it`);
      }
      const hadMembers = await removeAllMembers(tx, this.events, groupName);
      await tx.thingGroups.delete(groupName);
      // Its members' thingGroupNames changed: dynamic queries reading them are swept again.
      if (hadMembers) await this.documents.manyChanged(tx, 'groups');
      await tx.tags.removeAll(this.ctx.arns.thingGroup(groupName));
      // Its policies are detached with it (decision 0037); its members were told above.
      await tx.policies.detachAll(this.ctx.arns.thingGroup(groupName));
      return {};
    });
  }

  async listThingGroups(input: { maxResults?: unknown; nextToken?: string; parentGroup?: unknown; namePrefixFilter?: unknown; recursive?: unknown }) {
    const e = errors();
    const limit = pageSize(e, input.maxResults, 250, 50);
    const parentGroup = checkName(e, input.parentGroup, 'parentGroup', false);
    const namePrefix = checkName(e, input.namePrefixFilter, 'namePrefixFilter', false);
    const recursive = e.boolean(input.recursive, 'recursive');
    e.throwIfAny();
    const after = decodeToken('thing-groups', input.nextToken, 'InvalidRequestException', isString);
    let filter: { parentGroupName?: string | null; descendantsOfPath?: string };
    if (parentGroup !== undefined) {
      const parent = await requireGroup(this.ctx.store, parentGroup);
      // Every descendant unless recursive=false names only the direct children: the model calls
      // the member RecursiveWithoutDefault, and moto answers so (decision 0020), as without a parent.
      filter = recursive === false ? { parentGroupName: parentGroup } : { descendantsOfPath: parent.path };
    } else {
      // No parent: every group; an explicit recursive=false narrows to the roots (§11 #5).
      filter = recursive === false ? { parentGroupName: null } : {};
    }
    const rows = await this.ctx.store.thingGroups.list({ ...filter, namePrefix }, after, limit + 1);
    const { items, nextToken } = page(rows, limit, 'thing-groups', (r) => r.group_name);
    return {
      thingGroups: items.map((r) => ({ groupName: r.group_name, groupArn: this.ctx.arns.thingGroup(r.group_name) })),
      ...(nextToken ? { nextToken } : {}),
    };
  }
}
