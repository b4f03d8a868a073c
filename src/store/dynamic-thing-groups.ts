import { sql, type Kysely, type RawBuilder } from 'kysely';
import { IndexQueryCompiler, type IndexPredicate } from './fleet-index-query.js';
import type { Database, Dialect } from './schema.js';
import type { ThingGroupRow } from './thing-groups.js';

declare module './schema.js' {
  interface Database {
    dynamic_group_sources: { source: string; group_name: string };
  }
}

/** A dynamic group as a membership check needs it. */
export interface DynamicGroupQuery {
  groupName: string;
  predicate: IndexPredicate;
  createdAt: number;
}

/** One thing against several dynamic groups: whether it matches each, whether it is in each, and its group count. */
export interface ThingEvaluation {
  matches: boolean[];
  member: boolean[];
  /** Thing groups (static and dynamic) the thing is directly in. */
  groupCount: number;
}

/** One thing of a sweep batch against one group. */
export interface SweepRow {
  thing_name: string;
  matches: boolean;
  member: boolean;
  groupCount: number;
}

type DynamicRow = Pick<ThingGroupRow, 'group_name' | 'predicate' | 'created_at'>;

/**
 * Dynamic thing groups' SQL (migration 0020): which groups a change concerns, and a thing's
 * membership checks. Every check of one thing is one statement over its one `things` row: each
 * group's predicate (the fleet index's compiler, probing by thing) and its current membership are
 * columns of it. On PostgreSQL the thing row is locked for update (as a sweep batch locks its
 * rows), so two changes of one thing, or a change and a sweep, decide its membership one after the
 * other, each from what the other committed; things of a fleet never wait for one another.
 */
export class DynamicGroupStore {
  private readonly compiler: IndexQueryCompiler;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {
    this.compiler = new IndexQueryCompiler(dialect, 'correlated', true);
  }

  async putSources(groupName: string, sources: string[]): Promise<void> {
    await this.db.deleteFrom('dynamic_group_sources').where('group_name', '=', groupName).execute();
    if (sources.length > 0) await this.db.insertInto('dynamic_group_sources').values(sources.map((source) => ({ source, group_name: groupName }))).execute();
  }

  async deleteSources(groupName: string): Promise<void> {
    await this.db.deleteFrom('dynamic_group_sources').where('group_name', '=', groupName).execute();
  }

  /** Dynamic groups whose queries read one of `sources` ('all': every dynamic group), oldest first. */
  async concerned(sources: string[] | 'all'): Promise<DynamicGroupQuery[]> {
    let rows: DynamicRow[];
    if (sources === 'all') {
      rows = await this.db.selectFrom('thing_groups').select(['group_name', 'predicate', 'created_at']).where('query_string', 'is not', null).execute();
    } else {
      if (sources.length === 0) return [];
      rows = await this.db.selectFrom('thing_groups as g')
        .innerJoin('dynamic_group_sources as s', 's.group_name', 'g.group_name')
        .select(['g.group_name', 'g.predicate', 'g.created_at'])
        .where('s.source', 'in', sources)
        .distinct()
        .execute();
    }
    return rows
      .map((r) => ({ groupName: r.group_name, predicate: JSON.parse(r.predicate!) as IndexPredicate, createdAt: Number(r.created_at) }))
      .sort((a, b) => a.createdAt - b.createdAt || (a.groupName < b.groupName ? -1 : 1));
  }

  async all(): Promise<ThingGroupRow[]> {
    return this.db.selectFrom('thing_groups').selectAll().where('query_string', 'is not', null).orderBy('group_name').execute();
  }

  async count(): Promise<number> {
    const r = await this.db.selectFrom('thing_groups').select((eb) => eb.fn.countAll<number>().as('n')).where('query_string', 'is not', null).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Groups whose membership sweep is under way. */
  async building(): Promise<ThingGroupRow[]> {
    return this.db.selectFrom('thing_groups').selectAll().where('query_string', 'is not', null).where('dynamic_status', '<>', 'ACTIVE').orderBy('group_name').execute();
  }

  /** Moves a sweep on, only while the group's query is still of `generation`; false otherwise. */
  async updateBuild(groupName: string, generation: number, patch: Partial<Pick<ThingGroupRow, 'build_after' | 'build_done' | 'dynamic_status'>>): Promise<boolean> {
    const r = await this.db.updateTable('thing_groups').set(patch).where('group_name', '=', groupName).where('build_generation', '=', generation).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** One thing against `groups`, in one statement; undefined when the thing does not exist. */
  async evaluate(thingName: string, groups: DynamicGroupQuery[], lock: boolean): Promise<ThingEvaluation | undefined> {
    const columns: RawBuilder<unknown>[] = [];
    groups.forEach((g, i) => {
      columns.push(sql`case when ${this.compiler.thingPredicateSql(g.predicate)} then 1 else 0 end as ${sql.ref(`m${i}`)}`);
      columns.push(sql`case when exists (select 1 from thing_group_members x where x.thing_name = t.thing_name and x.group_name = ${g.groupName}) then 1 else 0 end as ${sql.ref(`c${i}`)}`);
    });
    columns.push(sql`(select count(*) from thing_group_members x where x.thing_name = t.thing_name) as n`);
    const lockClause = lock && this.dialect === 'postgres' ? sql` for update of t` : sql``;
    const r = await sql<Record<string, unknown>>`select ${sql.join(columns)} from things t where t.thing_name = ${thingName}${lockClause}`.execute(this.db);
    const row = r.rows[0];
    if (!row) return undefined;
    return {
      matches: groups.map((_, i) => Number(row[`m${i}`]) === 1),
      member: groups.map((_, i) => Number(row[`c${i}`]) === 1),
      groupCount: Number(row.n),
    };
  }

  /** The next `limit` things after `afterThing` (name order) against one group, locked for update on PostgreSQL. */
  async sweep(groupName: string, predicate: IndexPredicate, afterThing: string | null, limit: number): Promise<SweepRow[]> {
    const after = afterThing === null ? sql`` : sql` where t.thing_name > ${afterThing}`;
    const lockClause = this.dialect === 'postgres' ? sql` for update of t` : sql``;
    const r = await sql<{ thing_name: string; m: number; c: number; n: number }>`select t.thing_name,
        case when ${this.compiler.thingPredicateSql(predicate)} then 1 else 0 end as m,
        case when exists (select 1 from thing_group_members x where x.thing_name = t.thing_name and x.group_name = ${groupName}) then 1 else 0 end as c,
        (select count(*) from thing_group_members x where x.thing_name = t.thing_name) as n
      from things t${after} order by t.thing_name limit ${sql.lit(limit)}${lockClause}`.execute(this.db);
    return r.rows.map((row) => ({ thing_name: row.thing_name, matches: Number(row.m) === 1, member: Number(row.c) === 1, groupCount: Number(row.n) }));
  }

  /** The dynamic groups the thing is in, most recently created first. */
  async dynamicGroupsOf(thingName: string): Promise<{ group_name: string; created_at: number }[]> {
    const rows = await this.db.selectFrom('thing_group_members as m')
      .innerJoin('thing_groups as g', 'g.group_name', 'm.group_name')
      .select(['g.group_name', 'g.created_at'])
      .where('m.thing_name', '=', thingName)
      .where('g.query_string', 'is not', null)
      .execute();
    return rows.map((r) => ({ group_name: r.group_name, created_at: Number(r.created_at) })).sort((a, b) => b.created_at - a.created_at);
  }
}
