import { sql, type Kysely } from 'kysely';
import { COUNTER_COLUMN as COUNTERS } from './jobs.js';
import type { Database } from './schema.js';


/**
 * Executions by status over every job, for `/metrics`: the jobs' counters (their rows plus their
 * shards, decision 0014), so a scrape reads a row per job and shard, not one per execution.
 */
export async function executionsByStatus(db: Kysely<Database>): Promise<Record<string, number>> {
  const sums = Object.values(COUNTERS).map((c) => sql<number>`coalesce(sum(${sql.ref(c)}), 0)`.as(c));
  const [jobs, shards] = await Promise.all([
    db.selectFrom('jobs').select(sums).executeTakeFirst(),
    db.selectFrom('job_counter_shards').select(sums).executeTakeFirst(),
  ]);
  const out: Record<string, number> = {};
  for (const [status, column] of Object.entries(COUNTERS)) {
    out[status] = Number((jobs as Record<string, unknown> | undefined)?.[column] ?? 0) + Number((shards as Record<string, unknown> | undefined)?.[column] ?? 0);
  }
  return out;
}

/** Jobs by status, for `/metrics`. */
export async function jobsByStatus(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db.selectFrom('jobs').select(['status', sql<number>`count(*)`.as('n')]).groupBy('status').execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Whether the database answers and holds every migration this build knows (`/ready`). */
export async function migrationsApplied(db: Kysely<Database>): Promise<number> {
  const r = await sql<{ n: number | string }>`select count(*) as n from kysely_migration`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}
