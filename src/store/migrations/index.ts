import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { Migrator, sql } from 'kysely';
import type { Dialect } from '../schema.js';
import * as m0001 from './0001-package-catalog.js';
import * as m0002 from './0002-things.js';
import * as m0003 from './0003-shadows.js';
import * as m0006 from './0006-object-store.js';
import * as m0007 from './0007-thing-types.js';
import * as m0004 from './0004-jobs.js';
import * as m0005 from './0005-job-templates.js';
import * as m0008 from './0008-idempotency-expiry.js';
import * as m0009 from './0009-rollout-engine.js';
import * as m0010 from './0010-counter-shards.js';
import * as m0011 from './0011-notification-outbox.js';
import * as m0012 from './0012-release-log.js';
import * as m0013 from './0013-background-leases.js';
import * as m0014 from './0014-billing-groups.js';
import * as m0015 from './0015-server-credentials.js';
import * as m0016 from './0016-fleet-index.js';
import * as m0019 from './0019-embedded-object-store.js';
import * as m0020 from './0020-dynamic-thing-groups.js';
import * as m0021 from './0021-policy-changes.js';
import * as m0017 from './0017-certificates.js';
import * as m0018 from './0018-policies.js';

/**
 * Versioned migrations, applied in name order at every start. Append new files; never edit one
 * that has shipped.
 */
export type DialectMigration = { up(db: Kysely<any>, dialect: Dialect): Promise<void> };

const MIGRATIONS: Record<string, DialectMigration> = {
  '0001-package-catalog': m0001,
  '0002-things': m0002,
  '0003-shadows': m0003,
  '0006-object-store': m0006,
  '0007-thing-types': m0007,
  '0004-jobs': m0004,
  '0005-job-templates': m0005,
  '0008-idempotency-expiry': m0008,
  '0009-rollout-engine': m0009,
  '0010-counter-shards': m0010,
  '0011-notification-outbox': m0011,
  '0012-release-log': m0012,
  '0013-background-leases': m0013,
  '0014-billing-groups': m0014,
  '0015-server-credentials': m0015,
  '0016-fleet-index': m0016,
  '0019-embedded-object-store': m0019,
  '0020-dynamic-thing-groups': m0020,
  '0021-policy-changes': m0021,
  '0017-certificates': m0017,
  '0018-policies': m0018,
};

/** How many migrations this build has: a database that holds fewer is not ready (`/ready`). */
export const MIGRATION_COUNT = Object.keys(MIGRATIONS).length;

export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<string[]> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, m] of Object.entries(MIGRATIONS)) out[name] = { up: (d) => m.up(d, dialect) };
      return out;
    },
  };
  // Kysely looks for its bookkeeping tables in every schema; pin them to ours, or a second server
  // sharing the database in another schema would find the first one's tables and never create its own.
  const migrationTableSchema =
    dialect === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s : undefined;
  // Unordered: a migration numbered below one already applied (work that landed later) still runs.
  const migrator = new Migrator({ db, provider, migrationTableSchema, allowUnorderedMigrations: true });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (attempt >= 4 || !isConcurrentCatalogChange(dialect, error)) throw error;
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
  }
}

/**
 * Before migrating, Kysely introspects every table of the database to find its bookkeeping tables.
 * On PostgreSQL that catalog scan fails when another schema is dropped or migrated at the same
 * moment ("schema … does not exist", "column … of relation … does not exist") — other tenants or
 * test servers sharing the database. Nothing has
 * changed yet when that happens, so the migration is simply tried again.
 */
function isConcurrentCatalogChange(dialect: Dialect, error: unknown): boolean {
  return dialect === 'postgres' && error instanceof Error && /^(schema|relation|column) ".*"( of relation ".*")? does not exist$/.test(error.message);
}
