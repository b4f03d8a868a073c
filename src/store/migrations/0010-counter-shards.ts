import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * No row that serialises a fleet (decision 0014):
 * - `job_counter_shards`: a device's transition moves its job's counters in one of 16 shard rows
 *   (by thing name) instead of the job row, so devices of one job do not queue on one row lock.
 *   A job's counters are its row's columns plus the sum of its shards.
 * - PostgreSQL: queue_seq values come from a sequence (no row lock held to commit); SQLite keeps
 *   the `job_sequences` row, which its single writer serialises anyway.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  let t = db.schema
    .createTable('job_counter_shards')
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('shard', 'integer', (c) => c.notNull());
  for (const col of ['n_queued', 'n_in_progress', 'n_succeeded', 'n_failed', 'n_rejected', 'n_canceled', 'n_removed', 'n_timed_out']) {
    t = t.addColumn(col, 'integer', (c) => c.notNull().defaultTo(0));
  }
  await t.addPrimaryKeyConstraint('job_counter_shards_pk', ['job_id', 'shard']).execute();
  if (dialect === 'postgres') {
    const row = await sql<{ v: number }>`select coalesce(max(value), 0) + 1 as v from job_sequences where name = 'queue'`.execute(db);
    await sql.raw(`create sequence job_queue_seq start with ${Number(row.rows[0]?.v ?? 1)}`).execute(db);
  }
}
