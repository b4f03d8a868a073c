import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * Dynamic thing groups (issue 12 item 4, decision 0046). A dynamic group is a row of `thing_groups`
 * (every read API and job targeting treat it as a group) with its query; its members are rows of
 * `thing_group_members`, as a static group's are.
 * - `query_string` is NULL for a static group: that is what makes a group dynamic;
 * - `predicate` is the query resolved against the indexing configuration (JSON), so a membership
 *   check compiles it without reading the configuration;
 * - `dynamic_status` BUILDING / REBUILDING / ACTIVE, and `build_after` the last thing the
 *   membership sweep re-evaluated (NULL before the first), `build_done` once it has walked every
 *   thing, `build_not_before` the earliest it may turn ACTIVE (`indexBuildDelayMs`), and
 *   `build_generation` guarding the sweep's writes against a newer query;
 * - `dynamic_group_sources`: which parts of a thing's document each query reads (`registry`,
 *   `groups`, `connectivity`, `shadow:<name>`), so a change re-checks only the groups it concerns;
 * - `fleet_indexing.dynamic_generation`, bumped by every change of a dynamic query.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('thing_groups').addColumn('query_string', 'text').execute();
  await db.schema.alterTable('thing_groups').addColumn('index_name', 'text').execute();
  await db.schema.alterTable('thing_groups').addColumn('query_version', 'text').execute();
  await db.schema.alterTable('thing_groups').addColumn('predicate', 'text').execute();
  await db.schema.alterTable('thing_groups').addColumn('dynamic_status', 'text').execute();
  await db.schema.alterTable('thing_groups').addColumn('build_after', 'text').execute();
  await db.schema.alterTable('thing_groups').addColumn('build_generation', 'bigint').execute();
  await db.schema.alterTable('thing_groups').addColumn('build_done', 'integer').execute();
  await db.schema.alterTable('thing_groups').addColumn('build_not_before', 'bigint').execute();
  // Bumped by every change of a dynamic query (create, update, delete, a new indexing
  // configuration): a node's cache of which groups read what is checked against it.
  await db.schema.alterTable('fleet_indexing').addColumn('dynamic_generation', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema
    .createTable('dynamic_group_sources')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('dynamic_group_sources_pk', ['source', 'group_name'])
    .execute();
  await db.schema.createIndex('dynamic_group_sources_by_group').on('dynamic_group_sources').columns(['group_name']).execute();
}
