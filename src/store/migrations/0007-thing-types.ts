import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/** Thing types (things-and-shadows.md §3.8): what CreateThing/UpdateThing associate things with. */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('thing_types')
    .addColumn('thing_type_name', 'text', (c) => c.primaryKey())
    .addColumn('thing_type_id', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    // JSON array of attribute names.
    .addColumn('searchable_attributes', 'text')
    // JSON {propagatingAttributes:[...]}.
    .addColumn('mqtt5_configuration', 'text')
    .addColumn('deprecated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('deprecation_date', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}
