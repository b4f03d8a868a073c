import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * The rollout engine (decision 0013):
 * - `job_rollout_queue`: the things a job's targets reach, in rollout order, written at CreateJob
 *   and AssociateTargetsWithJob. A queued thing has no execution until the engine releases it.
 * - `job_rollouts`: one row per job with the engine's state, apart from the job row that every
 *   device transition locks: how many queue entries there are, the release cursor (the last queue
 *   seq released, moved by compare-and-set), how many executions releases created, the releases of the last minute (the pacing
 *   window), whether the rollout is stopped, whether QUEUED executions still wait to be cancelled,
 *   and when the engine must look at the job next (`due_at`, which is also its claim lease).
 * - `job_targets.last_seq`: the last queue entry a target contributed, for `processingTargets`.
 * Jobs created before this migration have no `job_rollouts` row: nothing is left to release.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('job_rollout_queue')
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('thing_name', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('job_rollout_queue_pk', ['job_id', 'seq'])
    .execute();
  await db.schema.createIndex('job_rollout_queue_by_thing').on('job_rollout_queue').columns(['job_id', 'thing_name']).execute();

  await db.schema
    .createTable('job_rollouts')
    .addColumn('job_id', 'text', (c) => c.primaryKey())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('released', 'integer', (c) => c.notNull())
    .addColumn('notified', 'integer', (c) => c.notNull())
    .addColumn('release_window', 'text')
    .addColumn('stopped', 'integer', (c) => c.notNull())
    .addColumn('cancel_pending', 'integer', (c) => c.notNull())
    .addColumn('cancel_force', 'integer', (c) => c.notNull())
    .addColumn('due_at', 'bigint')
    .execute();
  await db.schema.createIndex('job_rollouts_by_due').on('job_rollouts').column('due_at').execute();

  await db.schema.alterTable('job_targets').addColumn('last_seq', 'integer').execute();
}
