import type { Kysely } from 'kysely';
import { ReusableQuery } from './reusable-query.js';
import type { Database, Dialect } from './schema.js';

declare module './schema.js' {
  interface Database {
    job_notification_outbox: { id: number; payload: string; created_at: number };
  }
}

/** Written with every notifying transition: compiled once (reusable-query.ts). */
const addEntry = new ReusableQuery<[string, number], { id: number }>((db, [payload, now]) =>
  db.insertInto('job_notification_outbox').values({ payload, created_at: now } as never).returning('id'));

/** The notification outbox (migration 0011): written in a transaction, emptied once sent. */
export class JobOutboxStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  async add(payload: string, now: number): Promise<number> {
    const row = (await addEntry.run(this.db, this.dialect, [payload, now])).rows[0];
    if (!row) throw new Error('the outbox returned no id');
    return Number(row.id);
  }

  async delete(ids: number[]): Promise<void> {
    if (ids.length > 0) await this.db.deleteFrom('job_notification_outbox').where('id', 'in', ids).execute();
  }

  /**
   * Takes (deletes and returns) up to `limit` entries written before `cutoff`: what a node that
   * died after commit did not send. On PostgreSQL entries another node is taking are skipped.
   */
  async takeOlderThan(cutoff: number, limit: number): Promise<{ id: number; payload: string }[]> {
    let q = this.db.selectFrom('job_notification_outbox').select('id').where('created_at', '<', cutoff).orderBy('id').limit(limit);
    if (this.dialect === 'postgres') q = q.forUpdate().skipLocked();
    const rows = await this.db.deleteFrom('job_notification_outbox').where('id', 'in', q).returning(['id', 'payload']).execute();
    return rows.map((r) => ({ id: Number(r.id), payload: r.payload })).sort((a, b) => a.id - b.id);
  }
}
