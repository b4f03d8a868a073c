import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * Device shadows, keyed by (thing name, shadow name) with '' for the classic shadow, independent of
 * the thing registry (things-and-shadows.md §1.1). A deleted shadow stays as a tombstone row
 * (`deleted_at` set) so a re-creation within the tombstone window continues its version (§6.6).
 * The primary key also serves ListNamedShadowsForThing's ordered prefix scan.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('shadows')
    .addColumn('thing_name', 'text', (c) => c.notNull())
    .addColumn('shadow_name', 'text', (c) => c.notNull())
    .addColumn('document', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .addPrimaryKeyConstraint('shadows_pk', ['thing_name', 'shadow_name'])
    .execute();
}
