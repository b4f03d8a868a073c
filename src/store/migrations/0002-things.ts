import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * Things, static thing groups and membership. `path` is the group's materialized path
 * ('/root/child/'), so "all descendants of g" is one indexed prefix query — the shape job fan-out
 * and recursive listings need.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('things')
    .addColumn('thing_name', 'text', (c) => c.primaryKey())
    .addColumn('thing_id', 'text', (c) => c.notNull())
    .addColumn('thing_type_name', 'text')
    .addColumn('billing_group_name', 'text')
    .addColumn('attributes', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('thing_groups')
    .addColumn('group_name', 'text', (c) => c.primaryKey())
    .addColumn('group_id', 'text', (c) => c.notNull())
    .addColumn('parent_group_name', 'text')
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('depth', 'integer', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('attributes', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('thing_groups_by_path').on('thing_groups').column('path').execute();
  await db.schema.createIndex('thing_groups_by_parent').on('thing_groups').columns(['parent_group_name', 'group_name']).execute();

  await db.schema
    .createTable('thing_group_members')
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('thing_name', 'text', (c) => c.notNull())
    .addColumn('added_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('thing_group_members_pk', ['group_name', 'thing_name'])
    .execute();
  await db.schema.createIndex('thing_group_members_by_thing').on('thing_group_members').columns(['thing_name', 'group_name']).execute();
}
