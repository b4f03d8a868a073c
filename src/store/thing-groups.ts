import type { Kysely } from 'kysely';
import type { Database, Dialect } from './schema.js';

declare module './schema.js' {
  interface Database {
    thing_groups: ThingGroupRow;
    thing_group_members: ThingGroupMemberRow;
  }
}

export interface ThingGroupRow {
  group_name: string;
  group_id: string;
  parent_group_name: string | null;
  /** Materialized path from the root: '/root/child/' (the group itself last). */
  path: string;
  /** 1 for a root group. */
  depth: number;
  description: string | null;
  /** JSON object of string → string; `{}` when there are none. */
  attributes: string;
  version: number;
  created_at: number;
  /** Dynamic groups only (migration 0020): NULL on a static group. */
  query_string: string | null;
  index_name: string | null;
  query_version: string | null;
  /** The query resolved against the indexing configuration (JSON of an IndexPredicate). */
  predicate: string | null;
  dynamic_status: string | null;
  build_after: string | null;
  build_generation: number | null;
  build_done: number | null;
  build_not_before: number | null;
}

export interface ThingGroupMemberRow {
  group_name: string;
  thing_name: string;
  added_at: number;
}

export interface GroupListFilter {
  /** Direct children of this group; `null` for root groups only. */
  parentGroupName?: string | null;
  /** Every descendant of the group with this path (the group itself excluded). */
  descendantsOfPath?: string;
  /** Group names starting with this. */
  namePrefix?: string;
}

/**
 * Upper bound of a path prefix range: names are `[a-zA-Z0-9:_-]` and the separator is '/', all
 * below '~', so `path >= p AND path < p + '~'` is exactly "path starts with p" (the column is
 * binary/C-collated, see migration 0002).
 */
const prefixEnd = (path: string) => `${path}~`;

/** Thing groups (static and dynamic), the static hierarchy (materialized paths) and their members. */
export class ThingGroupStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  get(groupName: string): Promise<ThingGroupRow | undefined> {
    return this.db.selectFrom('thing_groups').selectAll().where('group_name', '=', groupName).executeTakeFirst();
  }

  /** Reads and, on PostgreSQL, locks the group for changes (update, delete, adding children). */
  getForUpdate(groupName: string): Promise<ThingGroupRow | undefined> {
    const q = this.db.selectFrom('thing_groups').selectAll().where('group_name', '=', groupName);
    return (this.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
  }

  /** Reads and, on PostgreSQL, share-locks the groups (so none is deleted while things join them). */
  async getManyForShare(groupNames: string[]): Promise<ThingGroupRow[]> {
    if (groupNames.length === 0) return [];
    const q = this.db.selectFrom('thing_groups').selectAll().where('group_name', 'in', groupNames).orderBy('group_name');
    return (this.dialect === 'postgres' ? q.forShare() : q).execute();
  }

  getMany(groupNames: string[]): Promise<ThingGroupRow[]> {
    if (groupNames.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('thing_groups').selectAll().where('group_name', 'in', groupNames).execute();
  }

  /** False when a group of that name already exists (a concurrent create won). */
  async insert(row: ThingGroupRow): Promise<boolean> {
    const result = await this.db
      .insertInto('thing_groups')
      .values(row)
      .onConflict((oc) => oc.column('group_name').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async update(groupName: string, patch: Partial<Pick<ThingGroupRow, 'description' | 'attributes' | 'version'>>): Promise<void> {
    await this.db.updateTable('thing_groups').set(patch).where('group_name', '=', groupName).execute();
  }

  /** A dynamic group's new query and the start of its sweep. */
  async setQuery(groupName: string, patch: Pick<ThingGroupRow, 'query_string' | 'predicate' | 'dynamic_status' | 'build_after' | 'build_done' | 'build_generation' | 'build_not_before'>): Promise<void> {
    await this.db.updateTable('thing_groups').set(patch).where('group_name', '=', groupName).execute();
  }

  async delete(groupName: string): Promise<void> {
    await this.db.deleteFrom('thing_groups').where('group_name', '=', groupName).execute();
  }

  countChildren(groupName: string): Promise<number> {
    return this.db
      .selectFrom('thing_groups')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('parent_group_name', '=', groupName)
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));
  }

  async hasChildren(groupName: string): Promise<boolean> {
    const row = await this.db.selectFrom('thing_groups').select('group_name').where('parent_group_name', '=', groupName).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  /** Groups by name (keyset), narrowed by parent, ancestry and name prefix. */
  list(filter: GroupListFilter, afterName: string | undefined, limit: number): Promise<ThingGroupRow[]> {
    let q = this.db.selectFrom('thing_groups').selectAll().orderBy('group_name').limit(limit);
    if (afterName !== undefined) q = q.where('group_name', '>', afterName);
    if (filter.parentGroupName === null) q = q.where('parent_group_name', 'is', null);
    else if (filter.parentGroupName !== undefined) q = q.where('parent_group_name', '=', filter.parentGroupName);
    if (filter.descendantsOfPath !== undefined) {
      q = q.where('path', '>', filter.descendantsOfPath).where('path', '<', prefixEnd(filter.descendantsOfPath));
    }
    const prefix = filter.namePrefix;
    if (prefix !== undefined) q = q.where((eb) => eb(eb.fn('substr', ['group_name', eb.val(1), eb.val(prefix.length)]), '=', prefix));
    return q.execute();
  }

  /** The names of the group with this path and of all its descendants (for fan-out per group). */
  async groupNamesInTree(path: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('thing_groups')
      .select('group_name')
      .where('path', '>=', path)
      .where('path', '<', prefixEnd(path))
      .orderBy('group_name')
      .execute();
    return rows.map((r) => r.group_name);
  }

  // ---- membership ----

  /** False when the thing already was a direct member. */
  async addMember(groupName: string, thingName: string, addedAt: number): Promise<boolean> {
    const result = await this.db
      .insertInto('thing_group_members')
      .values({ group_name: groupName, thing_name: thingName, added_at: addedAt })
      .onConflict((oc) => oc.columns(['group_name', 'thing_name']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** False when the thing was not a direct member. */
  async removeMember(groupName: string, thingName: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('thing_group_members')
      .where('group_name', '=', groupName)
      .where('thing_name', '=', thingName)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** These things join the group, in one statement per chunk; answers those that really joined. */
  async addMembers(groupName: string, thingNames: string[], addedAt: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < thingNames.length; i += 500) {
      const rows = await this.db
        .insertInto('thing_group_members')
        .values(thingNames.slice(i, i + 500).map((thing_name) => ({ group_name: groupName, thing_name, added_at: addedAt })))
        .onConflict((oc) => oc.columns(['group_name', 'thing_name']).doNothing())
        .returning('thing_name')
        .execute();
      out.push(...rows.map((r) => r.thing_name));
    }
    return out;
  }

  /** Removes these members of the group (a page at a time when a group is deleted). */
  async removeMembers(groupName: string, thingNames: string[]): Promise<void> {
    if (thingNames.length === 0) return;
    await this.db.deleteFrom('thing_group_members').where('group_name', '=', groupName).where('thing_name', 'in', thingNames).execute();
  }

  /** Every membership of the thing goes (DeleteThing); returns the groups it was directly in. */
  async removeThing(thingName: string): Promise<string[]> {
    const groups = await this.directGroupNamesOf(thingName);
    await this.db.deleteFrom('thing_group_members').where('thing_name', '=', thingName).execute();
    return groups;
  }

  /** The groups the thing is directly in (at most 10), by name. */
  async directGroupNamesOf(thingName: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('thing_group_members')
      .select('group_name')
      .where('thing_name', '=', thingName)
      .orderBy('group_name')
      .execute();
    return rows.map((r) => r.group_name);
  }

  /** The groups the thing is directly in, by name (keyset). */
  async listGroupsOfThing(thingName: string, afterGroup: string | undefined, limit: number): Promise<string[]> {
    let q = this.db
      .selectFrom('thing_group_members')
      .select('group_name')
      .where('thing_name', '=', thingName)
      .orderBy('group_name')
      .limit(limit);
    if (afterGroup !== undefined) q = q.where('group_name', '>', afterGroup);
    return (await q.execute()).map((r) => r.group_name);
  }

  /** Direct members of one group, by thing name (keyset; the primary key serves it). */
  async listMembers(groupName: string, afterThing: string | undefined, limit: number): Promise<string[]> {
    let q = this.db
      .selectFrom('thing_group_members')
      .select('thing_name')
      .where('group_name', '=', groupName)
      .orderBy('thing_name')
      .limit(limit);
    if (afterThing !== undefined) q = q.where('thing_name', '>', afterThing);
    return (await q.execute()).map((r) => r.thing_name);
  }

  /** Members of the group with this path or of any descendant, each thing once, by name (keyset). */
  async listMembersInTree(path: string, afterThing: string | undefined, limit: number): Promise<string[]> {
    let q = this.db
      .selectFrom('thing_group_members as m')
      .innerJoin('thing_groups as g', 'g.group_name', 'm.group_name')
      .select('m.thing_name')
      .distinct()
      .where('g.path', '>=', path)
      .where('g.path', '<', prefixEnd(path))
      .orderBy('m.thing_name')
      .limit(limit);
    if (afterThing !== undefined) q = q.where('m.thing_name', '>', afterThing);
    return (await q.execute()).map((r) => r.thing_name);
  }

  /** True if the thing is a member of the group or of any of its descendant groups. */
  async isThingInGroupTree(thingName: string, groupName: string): Promise<boolean> {
    const group = await this.get(groupName);
    if (!group) return false;
    // A thing is directly in at most 10 groups: read their paths through the by-thing index.
    const rows = await this.db
      .selectFrom('thing_group_members as m')
      .innerJoin('thing_groups as g', 'g.group_name', 'm.group_name')
      .select('g.path')
      .where('m.thing_name', '=', thingName)
      .execute();
    return rows.some((r) => r.path.startsWith(group.path));
  }

  /** Which of `thingNames` are members of the group or of any of its descendants (isThingInGroupTree for many). */
  async thingsInGroupTree(thingNames: string[], groupName: string): Promise<Set<string>> {
    const inside = new Set<string>();
    if (thingNames.length === 0) return inside;
    const group = await this.get(groupName);
    if (!group) return inside;
    // Each thing is directly in at most 10 groups: read their paths through the by-thing index.
    const rows = await this.db
      .selectFrom('thing_group_members as m')
      .innerJoin('thing_groups as g', 'g.group_name', 'm.group_name')
      .select(['m.thing_name', 'g.path'])
      .where('m.thing_name', 'in', thingNames)
      .execute();
    for (const r of rows) if (r.path.startsWith(group.path)) inside.add(r.thing_name);
    return inside;
  }
}
