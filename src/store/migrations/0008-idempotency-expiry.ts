import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/** Expired idempotency tokens are purged by age; this keeps that delete off a full scan. */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.createIndex('idempotency_tokens_by_age').on('idempotency_tokens').column('created_at').execute();
}
