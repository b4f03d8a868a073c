import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * Device notifications (notify / notify-next intents) are written in the transaction that causes
 * them and handed to the notifier after commit; what a crash left here is sent at the next look
 * (decision 0013). Devices tolerate a repeated notification, never a lost one.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('job_notification_outbox')
    .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('job_notification_outbox_by_age').on('job_notification_outbox').column('created_at').execute();
}
