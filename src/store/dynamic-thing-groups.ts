import { sql, type Kysely, type RawBuilder } from 'kysely';
import { IndexQueryCompiler, type IndexPredicate } from './fleet-index-query.js';
import type { Database, Dialect } from './schema.js';
import type { ThingGroupRow } from './thing-groups.js';
import type { ThingRow } from './things.js';

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
  /** Some CONTINUOUS job (of any status) targets the group. */
  continuous: boolean;
}

/** One thing's registry part of its index document, its connectivity, and the groups it is in. */
export interface ThingDocumentRow extends Omit<ThingRow, 'created_at'> {
  /** Every group the thing is directly in, a dynamic one marked with a trailing `*`. */
  groups: string[];
  connectivity?: { connected: boolean; timestamp: number; disconnectReason: string | null };
  /** `fleet_indexing.dynamic_generation` as the statement read it. */
  generation: number;
}

/** A thing of a sweep batch against one group. */
export interface SweepRow {
  thing_name: string;
  matches: boolean;
  member: boolean;
  groupCount: number;
}

/** Tables whose rows make up a thing's index document: a sweep waits for their writers (barrier). */
const DOCUMENT_TABLES = ['things', 'thing_attributes', 'thing_group_members', 'shadows', 'index_terms', 'billing_groups', 'thing_connectivity'] as const;

/**
 * Predicates parsed once per text, for the process (a Store lives for one transaction; every
 * change of a thing reads the groups it concerns). A pure function of the text; never mutated.
 */
const PARSED = new Map<string, IndexPredicate>();

type DynamicRow = Pick<ThingGroupRow, 'group_name' | 'predicate' | 'created_at'> & { continuous: number };

/**
 * Whether a CONTINUOUS job targets the group `g`, whatever its status: a CreateJob naming a dynamic
 * group bumps the dynamic generation, so a node's cached "no" is never stale (a stale "yes", once
 * the job ends, only costs the jobs listener its own lookup).
 */
const CONTINUOUS = sql`case when exists (select 1 from job_targets t join jobs j on j.job_id = t.job_id
  where t.target_type = 'thinggroup' and t.target_name = g.group_name and j.target_selection = 'CONTINUOUS') then 1 else 0 end`;

/**
 * Dynamic thing groups' SQL (migration 0020): which groups a change concerns, one thing's document
 * for the in-memory check (its row locked on PostgreSQL, so two changes of one thing, or a change
 * and a sweep, decide its membership one after the other), what only the database can decide (the
 * fleet index's compiler, probing by thing, static groups only), and the sweeps' batches. Things of
 * a fleet never wait for one another.
 */
export class DynamicGroupStore {
  private readonly compiler: IndexQueryCompiler;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {
    this.compiler = new IndexQueryCompiler(dialect, 'correlated', true);
  }

  private parsed(text: string): IndexPredicate {
    let p = PARSED.get(text);
    if (!p) {
      if (PARSED.size >= 1000) PARSED.clear();
      p = JSON.parse(text) as IndexPredicate;
      PARSED.set(text, p);
    }
    return p;
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
      rows = (await sql<DynamicRow>`select g.group_name, g.predicate, g.created_at, ${CONTINUOUS} as continuous from thing_groups g where g.query_string is not null`.execute(this.db)).rows;
    } else {
      if (sources.length === 0) return [];
      // Raw SQL: this runs on every change of a thing, and building it costs more than running it.
      const r = await sql<DynamicRow>`select distinct g.group_name, g.predicate, g.created_at, ${CONTINUOUS} as continuous from dynamic_group_sources s
        join thing_groups g on g.group_name = s.group_name where s.source in (${sql.join(sources)})`.execute(this.db);
      rows = r.rows;
    }
    return rows
      .map((r) => ({ groupName: r.group_name, predicate: this.parsed(r.predicate!), createdAt: Number(r.created_at), continuous: Number(r.continuous) === 1 }))
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

  /**
   * The registry part of one thing's document, its connectivity, its groups and the dynamic
   * queries' generation, in one small statement (the membership check evaluates the groups'
   * predicates on it in memory). With `lock` the thing row is locked for update on PostgreSQL,
   * without waiting: `busy` when another transaction holds it (lockThing, then load again, so that
   * nothing is read from before that transaction committed). Undefined: no such thing.
   */
  loadDocument(thingName: string): Promise<ThingDocumentRow | undefined>;
  loadDocument(thingName: string, lock: true): Promise<ThingDocumentRow | 'busy' | undefined>;
  async loadDocument(thingName: string, lock = false): Promise<ThingDocumentRow | 'busy' | undefined> {
    const marked = sql`x.group_name || case when g.query_string is null then '' else '*' end`;
    // Group names never hold '/' (NAME pattern): a safe separator.
    const aggregate = this.dialect === 'postgres' ? sql`string_agg(${marked}, '/')` : sql`group_concat(${marked}, '/')`;
    const locking = lock && this.dialect === 'postgres' ? sql` for update of t skip locked` : sql``;
    const r = await sql<Record<string, unknown>>`select t.thing_name, t.thing_id, t.thing_type_name, t.billing_group_name, t.attributes, t.version,
        (select ${aggregate} from thing_group_members x join thing_groups g on g.group_name = x.group_name where x.thing_name = t.thing_name) as member_of,
        (select f.dynamic_generation from fleet_indexing f where f.id = 1) as generation,
        c.connected, c.timestamp as connected_at, c.disconnect_reason
      from things t left join thing_connectivity c on c.thing_name = t.thing_name where t.thing_name = ${thingName}${locking}`.execute(this.db);
    const row = r.rows[0];
    if (!row) {
      // Skipped rather than missing: another transaction holds the row.
      return lock && this.dialect === 'postgres' && (await this.exists(thingName)) ? 'busy' : undefined;
    }
    const memberOf = typeof row.member_of === 'string' && row.member_of !== '' ? row.member_of.split('/') : [];
    return {
      thing_name: row.thing_name as string,
      thing_id: row.thing_id as string,
      thing_type_name: (row.thing_type_name as string | null) ?? null,
      billing_group_name: (row.billing_group_name as string | null) ?? null,
      attributes: row.attributes as string,
      version: Number(row.version),
      groups: memberOf,
      generation: Number(row.generation ?? 0),
      ...(row.connected === null || row.connected === undefined ? {} : {
        connectivity: { connected: Number(row.connected) === 1, timestamp: Number(row.connected_at), disconnectReason: (row.disconnect_reason as string | null) ?? null },
      }),
    };
  }

  private async exists(thingName: string): Promise<boolean> {
    return (await this.db.selectFrom('things').select('thing_name').where('thing_name', '=', thingName).executeTakeFirst()) !== undefined;
  }

  /** Index rows of these shadows of the thing. */
  termsOf(thingName: string, shadowNames: string[]): Promise<{ shadow_name: string; field: string; word: string; full_value: string; num: number | null }[]> {
    if (shadowNames.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('index_terms').select(['shadow_name', 'field', 'word', 'full_value', 'num']).where('thing_name', '=', thingName).where('shadow_name', 'in', shadowNames).execute();
  }

  /** Whether the thing matches each predicate, in one statement (what the in-memory check cannot decide). */
  async matchInSql(thingName: string, predicates: IndexPredicate[]): Promise<boolean[]> {
    if (predicates.length === 0) return [];
    const columns = predicates.map((p, i) => sql`case when ${this.compiler.thingPredicateSql(p)} then 1 else 0 end as ${sql.ref(`m${i}`)}`);
    const r = await sql<Record<string, unknown>>`select ${sql.join(columns)} from things t where t.thing_name = ${thingName}`.execute(this.db);
    const row = r.rows[0];
    return predicates.map((_, i) => row !== undefined && Number(row[`m${i}`]) === 1);
  }

  /**
   * Locks the thing row for update (PostgreSQL): two changes of one thing decide its membership
   * one after the other, each from what the other committed. SQLite serializes writers anyway.
   */
  async lockThing(thingName: string): Promise<void> {
    if (this.dialect === 'postgres') await sql`select 1 from things where thing_name = ${thingName} for update`.execute(this.db);
  }

  /**
   * Before a new query's first sweep step (PostgreSQL): waits, table by table, until every
   * transaction writing a thing's document when the query committed has ended. A change that
   * started earlier may not have seen the new group; the sweep, which comes after, sees its data.
   * One table per short transaction: the barrier holds a lock only while waiting for it, so it
   * can never be part of a deadlock. Run outside any transaction.
   */
  async documentWritersBarrier(): Promise<void> {
    // Inside a transaction (test mode's seed) there are no other writers to wait for that matter.
    if (this.dialect !== 'postgres' || this.db.isTransaction) return;
    for (const table of DOCUMENT_TABLES) {
      await this.db.transaction().execute(async (trx) => {
        await sql`lock table ${sql.table(table)} in share mode`.execute(trx);
      });
    }
  }

  /**
   * The thing leaves `left` and joins `joined`, in one statement on PostgreSQL; answers what really
   * changed (a concurrent change may have done part of it).
   */
  async moveThing(thingName: string, left: string[], joined: string[], addedAt: number): Promise<{ left: string[]; joined: string[] }> {
    if (left.length === 0 && joined.length === 0) return { left: [], joined: [] };
    if (this.dialect === 'postgres') {
      const del = left.length > 0
        ? sql`delete from thing_group_members where thing_name = ${thingName} and group_name in (${sql.join(left)}) returning group_name`
        : sql`select group_name from thing_group_members where false`;
      const ins = joined.length > 0
        ? sql`insert into thing_group_members (group_name, thing_name, added_at) values ${sql.join(joined.map((g) => sql`(${g}, ${thingName}, ${addedAt})`))} on conflict do nothing returning group_name`
        : sql`select group_name from thing_group_members where false`;
      const r = await sql<{ k: string; group_name: string }>`with d as (${del}), i as (${ins}) select 'l' as k, group_name from d union all select 'j' as k, group_name from i`.execute(this.db);
      return { left: r.rows.filter((x) => x.k === 'l').map((x) => x.group_name), joined: r.rows.filter((x) => x.k === 'j').map((x) => x.group_name) };
    }
    const gone = left.length > 0
      ? (await sql<{ group_name: string }>`delete from thing_group_members where thing_name = ${thingName} and group_name in (${sql.join(left)}) returning group_name`.execute(this.db)).rows.map((x) => x.group_name)
      : [];
    const came = joined.length > 0
      ? (await sql<{ group_name: string }>`insert into thing_group_members (group_name, thing_name, added_at) values ${sql.join(joined.map((g) => sql`(${g}, ${thingName}, ${addedAt})`))} on conflict do nothing returning group_name`.execute(this.db)).rows.map((x) => x.group_name)
      : [];
    return { left: gone, joined: came };
  }

  /**
   * The sweep rows of the things a batch would move, decided again: on PostgreSQL they are locked
   * for update and read afresh, so a change of one of them that committed meanwhile is seen (a
   * thing that stays put needs neither). SQLite serializes writers: the rows stand.
   */
  async recheck(groupName: string, predicate: IndexPredicate, moving: SweepRow[]): Promise<SweepRow[]> {
    if (this.dialect !== 'postgres' || moving.length === 0) return moving;
    const names = moving.map((r) => r.thing_name);
    await sql`select thing_name from things where thing_name in (${sql.join(names)}) order by thing_name for update`.execute(this.db);
    return this.sweep(groupName, predicate, null, names.length, names);
  }

  /** The next `limit` things after `afterThing` (name order) against one group, or the things `only` names. */
  async sweep(groupName: string, predicate: IndexPredicate, afterThing: string | null, limit: number, only?: string[]): Promise<SweepRow[]> {
    const after = only ? sql` where t.thing_name in (${sql.join(only)})` : afterThing === null ? sql`` : sql` where t.thing_name > ${afterThing}`;
    const r = await sql<{ thing_name: string; m: number; c: number; n: number }>`select t.thing_name,
        case when ${this.compiler.thingPredicateSql(predicate)} then 1 else 0 end as m,
        case when exists (select 1 from thing_group_members x where x.thing_name = t.thing_name and x.group_name = ${groupName}) then 1 else 0 end as c,
        (select count(*) from thing_group_members x where x.thing_name = t.thing_name) as n
      from things t${after} order by t.thing_name limit ${sql.lit(limit)}`.execute(this.db);
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
