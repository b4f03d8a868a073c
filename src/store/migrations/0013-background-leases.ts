import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * Background work claimed across nodes (decision 0013):
 * - `package_versions.sbom_lease_until` / `sbom_lease_owner`: the node validating an SBOM holds a
 *   lease it renews while it works; another node takes the validation over once it lapses.
 * - `background_leases`: one row per periodic task that one node at a time runs (the idempotency
 *   purge), held for the task's period.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('package_versions').addColumn('sbom_lease_until', 'bigint').execute();
  await db.schema.alterTable('package_versions').addColumn('sbom_lease_owner', 'text').execute();
  // Every node looks for validations nobody holds at each poll: only IN_PROGRESS rows are indexed.
  await db.schema
    .createIndex('package_versions_sbom_in_progress')
    .on('package_versions')
    .column('sbom_validation_status')
    .where(sql.ref('sbom_validation_status'), '=', 'IN_PROGRESS')
    .execute();
  await db.schema
    .createTable('background_leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'bigint', (c) => c.notNull())
    .execute();
}
