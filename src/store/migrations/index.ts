import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { Migrator } from 'kysely';
import type { Dialect } from '../schema.js';
import * as m0001 from './0001-package-catalog.js';
import * as m0002 from './0002-things.js';

/**
 * Versioned migrations, applied in name order at every start. Append new files; never edit one
 * that has shipped.
 */
export type DialectMigration = { up(db: Kysely<any>, dialect: Dialect): Promise<void> };

const MIGRATIONS: Record<string, DialectMigration> = {
  '0001-package-catalog': m0001,
  '0002-things': m0002,
};

export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<string[]> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, m] of Object.entries(MIGRATIONS)) out[name] = { up: (d) => m.up(d, dialect) };
      return out;
    },
  };
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
