import { randomInt } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { IndexQueryCompiler, type IndexPredicate } from './fleet-index-query.js';
import { ReusableQuery } from './reusable-query.js';
import type { Database, Dialect } from './schema.js';
import type { ShadowRow } from './shadows.js';
import type { ThingGroupRow } from './thing-groups.js';
import type { ThingRow } from './things.js';

declare module './schema.js' {
  interface Database {
    fleet_indexing: FleetIndexingRow;
    index_terms: IndexTermRow;
    thing_connectivity: ConnectivityRow;
  }
}

export interface FleetIndexingRow {
  id: number;
  thing_config: string;
  group_config: string;
  thing_status: string;
  generation: number;
  build_after_thing: string | null;
  build_after_shadow: string | null;
  build_done: number;
  build_not_before: number;
  updated_at: number;
  /** Bumped by every change of a dynamic thing group's query (migration 0020). */
  dynamic_generation: number;
}

export interface IndexTermRow {
  thing_name: string;
  shadow_name: string;
  field: string;
  word: string;
  full_value: string;
  num: number | null;
}

export type IndexTerm = Omit<IndexTermRow, 'thing_name' | 'shadow_name'>;

export interface ConnectivityRow {
  thing_name: string;
  connected: number;
  timestamp: number;
  disconnect_reason: string | null;
  client_id: string | null;
  keep_alive: number | null;
  clean_session: number | null;
  session_expiry: number | null;
  version: number;
}

export type ConnectivityUpdate = Omit<ConnectivityRow, 'version'>;

const connectivityUpsert = new ReusableQuery<[number, number, string | null, string | null, number | null, number | null, number | null, string], never>(
  (_db, [connected, timestamp, reason, clientId, keepAlive, clean, expiry, thingName]) => sql`
    insert into thing_connectivity (thing_name, connected, "timestamp", disconnect_reason, client_id, keep_alive, clean_session, session_expiry, version)
    select t.thing_name, cast(${connected} as integer), cast(${timestamp} as bigint), cast(${reason} as text), cast(${clientId} as text),
      cast(${keepAlive} as integer), cast(${clean} as integer), cast(${expiry} as bigint), 1
    from things t where t.thing_name = ${thingName}
    on conflict (thing_name) do update set connected = excluded.connected, "timestamp" = excluded."timestamp",
      disconnect_reason = excluded.disconnect_reason, client_id = excluded.client_id,
      keep_alive = coalesce(excluded.keep_alive, thing_connectivity.keep_alive),
      clean_session = coalesce(excluded.clean_session, thing_connectivity.clean_session),
      session_expiry = coalesce(excluded.session_expiry, thing_connectivity.session_expiry),
      version = thing_connectivity.version + 1`,
);

/** Rows per INSERT: well under SQLite's 32,766 bound parameters at 6 columns a row. */
const INSERT_CHUNK = 500;

/** The fleet index (migration 0016): configuration, shadow terms, connectivity, and its queries. */
/**
 * Things a search's first look examines in name order (SQLite): a page of a broad query is found
 * among them without building the whole match set.
 */
const ORDERED_WINDOW = 2000;

export class FleetIndexStore {
  private readonly compiler: IndexQueryCompiler;
  private readonly probes: IndexQueryCompiler;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {
    this.compiler = new IndexQueryCompiler(dialect);
    this.probes = new IndexQueryCompiler(dialect, 'correlated');
  }

  getConfig(options: { forUpdate?: boolean } = {}): Promise<FleetIndexingRow | undefined> {
    const q = this.db.selectFrom('fleet_indexing').selectAll().where('id', '=', 1);
    return (options.forUpdate && this.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
  }

  /** Writes the one configuration row (insert or replace; the dynamic queries' generation stays). */
  async putConfig(row: Omit<FleetIndexingRow, 'id' | 'dynamic_generation'>): Promise<void> {
    await this.db.insertInto('fleet_indexing').values({ id: 1, ...row, dynamic_generation: 0 })
      .onConflict((oc) => oc.column('id').doUpdateSet({ ...row })).execute();
  }

  /**
   * A dynamic query changed: every node's cache of which groups read what is stale. A random
   * token rather than a counter: a rolled-back change must not leave a cache entry that a later
   * change's value would match.
   */
  async bumpDynamicGeneration(): Promise<void> {
    await this.db.updateTable('fleet_indexing').set({ dynamic_generation: randomInt(1, 2 ** 47) }).where('id', '=', 1).execute();
  }

  /** Moves the build on, only if the configuration is still of `generation`; false otherwise. */
  async updateBuild(generation: number, patch: Partial<Pick<FleetIndexingRow, 'build_after_thing' | 'build_after_shadow' | 'build_done' | 'thing_status'>>): Promise<boolean> {
    const r = await this.db.updateTable('fleet_indexing').set(patch).where('id', '=', 1).where('generation', '=', generation).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * The build's batch: every index row of the shadows from `first` to `last` (key order) goes, and
   * `rows` come instead — one delete and a few multi-row inserts. Safe because `shadowsAfter` held
   * shadow writes off for the transaction: no shadow in the range changes or appears meanwhile.
   */
  async replaceTermsInRange(first: { thing: string; shadow: string }, last: { thing: string; shadow: string }, rows: IndexTermRow[]): Promise<void> {
    await this.db.deleteFrom('index_terms')
      .where((eb) => eb.and([
        eb.or([eb('thing_name', '>', first.thing), eb.and([eb('thing_name', '=', first.thing), eb('shadow_name', '>=', first.shadow)])]),
        eb.or([eb('thing_name', '<', last.thing), eb.and([eb('thing_name', '=', last.thing), eb('shadow_name', '<=', last.shadow)])]),
      ]))
      .execute();
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) await this.db.insertInto('index_terms').values(rows.slice(i, i + INSERT_CHUNK)).execute();
  }

  /** The shadow's index rows become `terms` (none for a deleted shadow). */
  async replaceShadowTerms(thingName: string, shadowName: string, terms: IndexTerm[]): Promise<void> {
    await this.db.deleteFrom('index_terms').where('thing_name', '=', thingName).where('shadow_name', '=', shadowName).execute();
    for (let i = 0; i < terms.length; i += INSERT_CHUNK) {
      const rows = terms.slice(i, i + INSERT_CHUNK).map((t) => ({ thing_name: thingName, shadow_name: shadowName, ...t }));
      await this.db.insertInto('index_terms').values(rows).execute();
    }
  }

  /**
   * The build's next shadows after (thing, shadow), live ones and tombstones. On PostgreSQL the
   * shadows table is share-locked first: shadow writes wait until the batch commits (one short
   * transaction), so none in the batch's range changes or appears between this read and the
   * batch's rewrite. SQLite transactions are serialized anyway.
   */
  async shadowsAfter(afterThing: string | null, afterShadow: string | null, limit: number): Promise<ShadowRow[]> {
    if (this.dialect === 'postgres') await sql`lock table shadows in share mode`.execute(this.db);
    let q = this.db.selectFrom('shadows').selectAll().orderBy('thing_name').orderBy('shadow_name').limit(limit);
    if (afterThing !== null) {
      const t = afterThing;
      const s = afterShadow ?? '';
      q = q.where((eb) => eb.or([eb('thing_name', '>', t), eb.and([eb('thing_name', '=', t), eb('shadow_name', '>', s)])]));
    }
    return q.execute();
  }

  async putConnectivity(row: ConnectivityRow): Promise<void> {
    const { thing_name: _, ...rest } = row;
    await this.db.insertInto('thing_connectivity').values(row).onConflict((oc) => oc.column('thing_name').doUpdateSet(rest)).execute();
  }

  /**
   * A connect or disconnect the MQTT door saw, for a registered thing only: one statement that
   * keeps the session facts an event does not carry (a disconnect has no keepalive) and moves the
   * version. False when there is no such thing.
   */
  async recordConnectivity(e: ConnectivityUpdate): Promise<boolean> {
    const r = await connectivityUpsert.run(this.db, this.dialect, [e.connected, e.timestamp, e.disconnect_reason, e.client_id, e.keep_alive, e.clean_session, e.session_expiry, e.thing_name]);
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  getConnectivity(thingName: string): Promise<ConnectivityRow | undefined> {
    return this.db.selectFrom('thing_connectivity').selectAll().where('thing_name', '=', thingName).executeTakeFirst();
  }

  // ---- queries ----

  /**
   * Names of the things matching `p`, in name order, after `afterName`. SQLite's planner (without
   * statistics) always builds the whole match set and sorts it, which is right for a narrow query
   * and slow for a broad one ("every device on 2.0.1"); so it first probes the next
   * ORDERED_WINDOW things in name order, and only when they hold fewer than a page does the
   * set-based query run. PostgreSQL's planner chooses between the two itself.
   */
  async searchThings(p: IndexPredicate, afterName: string | undefined, limit: number): Promise<string[]> {
    const after = afterName === undefined ? sql`` : sql` and t.thing_name > ${afterName}`;
    if (this.dialect === 'sqlite') {
      const window = sql`(select thing_name, thing_id, thing_type_name, billing_group_name, version from things t where 1 = 1${after} order by thing_name limit ${sql.lit(ORDERED_WINDOW)})`;
      const r = await sql<{ thing_name: string }>`select t.thing_name from ${window} t where ${this.probes.thingPredicateSql(p)} order by t.thing_name limit ${sql.lit(limit)}`.execute(this.db);
      if (r.rows.length >= limit) return r.rows.map((row) => row.thing_name);
    }
    const r = await sql<{ thing_name: string }>`select t.thing_name from things t where ${this.compiler.thingPredicateSql(p)}${after} order by t.thing_name limit ${sql.lit(limit)}`.execute(this.db);
    return r.rows.map((row) => row.thing_name);
  }

  async searchGroups(p: IndexPredicate, afterName: string | undefined, limit: number): Promise<ThingGroupRow[]> {
    const after = afterName === undefined ? sql`` : sql` and g.group_name > ${afterName}`;
    const r = await sql<ThingGroupRow>`select g.* from thing_groups g where ${this.compiler.groupPredicateSql(p)}${after} order by g.group_name limit ${sql.lit(limit)}`.execute(this.db);
    return r.rows;
  }

  // ---- what a page of hits shows ----

  thingsNamed(names: string[]): Promise<ThingRow[]> {
    if (names.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('things').selectAll().where('thing_name', 'in', names).execute();
  }

  membershipsOf(names: string[]): Promise<{ thing_name: string; group_name: string }[]> {
    if (names.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('thing_group_members').select(['thing_name', 'group_name']).where('thing_name', 'in', names).orderBy('group_name').execute();
  }

  /** Live shadows of these things with one of these names ('' = classic). */
  shadowsOf(names: string[], shadowNames: string[]): Promise<ShadowRow[]> {
    if (names.length === 0 || shadowNames.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('shadows').selectAll().where('thing_name', 'in', names).where('shadow_name', 'in', shadowNames).where('deleted_at', 'is', null).execute();
  }

  connectivityOf(names: string[]): Promise<ConnectivityRow[]> {
    if (names.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('thing_connectivity').selectAll().where('thing_name', 'in', names).execute();
  }

  /** Ancestors' names of groups by path (parentGroupNames). */
  groupsOnPaths(paths: string[]): Promise<{ group_name: string; path: string }[]> {
    if (paths.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('thing_groups').select(['group_name', 'path']).where('path', 'in', paths).execute();
  }
}
