import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * IoT policies (issue 11 item 4): a policy, its versions (ids 1, 2, … per policy, one of them the
 * default) and what it is attached to, by the target's ARN (a certificate or a thing group), so
 * a target's policies and a policy's targets are each one index range.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('policies')
    .addColumn('policy_name', 'text', (c) => c.primaryKey())
    .addColumn('default_version_id', 'integer', (c) => c.notNull())
    .addColumn('generation_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('policy_versions')
    .addColumn('policy_name', 'text', (c) => c.notNull())
    .addColumn('version_id', 'integer', (c) => c.notNull())
    .addColumn('document', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('policy_versions_pk', ['policy_name', 'version_id'])
    .execute();
  await db.schema
    .createTable('policy_targets')
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('policy_name', 'text', (c) => c.notNull())
    .addColumn('attached_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('policy_targets_pk', ['target', 'policy_name'])
    .execute();
  await db.schema.createIndex('policy_targets_by_policy').on('policy_targets').columns(['policy_name', 'target']).execute();
}
