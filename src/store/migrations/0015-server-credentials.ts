import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * The generated key pair, kept with the data it protects (issue 14 item 4, decision 0024): on
 * PostgreSQL every instance of one database accepts the same key. One row, named 'default'.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('server_credentials')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('access_key_id', 'text', (c) => c.notNull())
    .addColumn('secret_access_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}
