import { sql, type Kysely } from 'kysely';
import type { Database, Dialect } from './schema.js';

/**
 * Tables a reset keeps: the migration bookkeeping (the schema stays), the background leases,
 * which say which node does what rather than holding any resource (a node serving an external
 * broker keeps serving through a reset), the server's key pair (credentials stay, decision 0016),
 * and the policy change log, whose seq must not start again under other nodes' cursors (decision 0049).
 */
export const KEPT_BY_RESET = ['kysely_migration', 'kysely_migration_lock', 'background_leases', 'server_credentials', 'embedded_object_store', 'server_device_ca', 'policy_changes'] as const;

/** Rows the migrations themselves insert (0004: the rollout queue's sequence), put back after a wipe. */
const MIGRATION_ROWS = { job_sequences: [{ name: 'queue', value: 0 }] } as const;

/** Every table of this database's schema (SQLite file or PostgreSQL search_path schema). */
export async function tableNames(db: Kysely<Database>, dialect: Dialect): Promise<string[]> {
  if (dialect === 'sqlite') {
    const r = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db);
    return r.rows.map((row) => row.name);
  }
  const r = await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = current_schema() order by tablename`.execute(db);
  return r.rows.map((row) => row.name);
}

/**
 * Deletes every row of every table but those KEPT_BY_RESET, in one transaction, and starts the
 * generated ids again, as in a fresh database. Tables are found in the catalog rather than
 * listed, so a table a later migration adds is wiped too.
 */
export async function wipeResources(db: Kysely<Database>, dialect: Dialect): Promise<{ tables: string[] }> {
  return db.transaction().execute(async (trx) => {
    const tables = (await tableNames(trx, dialect)).filter((t) => !(KEPT_BY_RESET as readonly string[]).includes(t));
    if (tables.length === 0) return { tables };
    if (dialect === 'postgres') {
      // One statement, whatever the foreign keys between the tables.
      await sql`truncate table ${sql.join(tables.map((t) => sql.table(t)))} restart identity`.execute(trx);
    } else {
      // Foreign keys are checked at commit, when every referencing row is gone too.
      await sql`pragma defer_foreign_keys = on`.execute(trx);
      for (const t of tables) await sql`delete from ${sql.table(t)}`.execute(trx);
      const hasSequences = (await sql<{ n: number }>`select count(*) as n from sqlite_master where name = 'sqlite_sequence'`.execute(trx)).rows[0].n > 0;
      if (hasSequences) await sql`delete from sqlite_sequence`.execute(trx);
    }
    for (const [table, rows] of Object.entries(MIGRATION_ROWS)) {
      if (tables.includes(table)) await trx.insertInto(table as keyof Database).values(rows as never).execute();
    }
    return { tables };
  });
}

/** Whether any resource exists: a row in a table a reset wipes, beyond the migrations' own. */
export async function holdsResources(db: Kysely<Database>, dialect: Dialect): Promise<boolean> {
  for (const t of await tableNames(db, dialect)) {
    if ((KEPT_BY_RESET as readonly string[]).includes(t) || t in MIGRATION_ROWS) continue;
    const r = await sql<{ one: number }>`select 1 as one from ${sql.table(t)} limit 1`.execute(db);
    if (r.rows.length > 0) return true;
  }
  return false;
}
