import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * Policy changes for the other instances on the same database (decision 0049): one row per thing
 * whose policies may have changed (its groups), or `thing_name` NULL for every connection (a new
 * default version, an attachment or a detach), written in the transaction of the change. Each
 * node reads `seq` past its cursor and re-binds its own live MQTT connections; `origin` is the
 * writing node's feed, which already heard of it; `at` (real time, ms) is what pruning reads.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('policy_changes')
    .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('thing_name', 'text')
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('policy_changes_by_age').on('policy_changes').column('at').execute();
}
