import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * Things, static thing groups and membership. `path` is the group's materialized path
 * ('/root/child/'), so "all descendants of g" is one indexed prefix query — the shape job fan-out
 * and recursive listings need.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
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
  // ListThings?thingTypeName= and DeleteThingType's "no things of this type" check.
  await db.schema.createIndex('things_by_type').on('things').columns(['thing_type_name', 'thing_name']).execute();

  // One row per attribute, so ListThings?attributeName=&attributeValue= is an index lookup instead
  // of parsing every thing's JSON. `things.attributes` stays the document DescribeThing returns.
  await db.schema
    .createTable('thing_attributes')
    .addColumn('thing_name', 'text', (c) => c.notNull())
    .addColumn('attr_name', 'text', (c) => c.notNull())
    .addColumn('attr_value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('thing_attributes_pk', ['thing_name', 'attr_name'])
    .execute();
  await db.schema.createIndex('thing_attributes_by_value').on('thing_attributes').columns(['attr_name', 'attr_value', 'thing_name']).execute();

  await db.schema
    .createTable('thing_groups')
    .addColumn('group_name', 'text', (c) => c.primaryKey())
    .addColumn('group_id', 'text', (c) => c.notNull())
    .addColumn('parent_group_name', 'text')
    // Prefix queries on `path` are byte ranges (path >= '/a/' AND path < '/a/~'); in PostgreSQL
    // that is only right, and only indexed, under the C collation whatever the database default.
    .addColumn('path', 'text', (c) => (dialect === 'postgres' ? c.notNull().modifyEnd(sql`collate "C"`) : c.notNull()))
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
