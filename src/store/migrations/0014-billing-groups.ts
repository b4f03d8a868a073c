import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * Billing groups (issue 14). A thing names its one billing group in `things.billing_group_name`
 * (there since 0002); the index lists a group's things in name order without a scan.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('billing_groups')
    .addColumn('billing_group_name', 'text', (c) => c.primaryKey())
    .addColumn('billing_group_id', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('things_billing_group').on('things').columns(['billing_group_name', 'thing_name']).execute();
}
