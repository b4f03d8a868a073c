import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * `job_rollouts.release_log`: JSON [[atMs, releasedSoFar], …], one entry per tick that released
 * something, so the rollout forecast can say when each tenth of the targets went out.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('job_rollouts').addColumn('release_log', 'text').execute();
}
