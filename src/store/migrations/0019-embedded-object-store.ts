import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * Which data dir's embedded object store holds this database's objects (issue 14 item 4,
 * decision 0045). One row, named 'default', written by the first instance on the embedded store.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('embedded_object_store')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('data_dir_id', 'text', (c) => c.notNull())
    .addColumn('data_dir', 'text', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}
