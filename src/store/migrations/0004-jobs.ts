import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * IoT Jobs: jobs (with their execution counters kept as columns, so jobProcessDetails never
 * needs a COUNT), their targets, and job executions. `queue_seq` is one global, increasing
 * number per execution, given in target order at fan-out: it orders a thing's pending list (oldest
 * QUEUED first) and a thing's execution history.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('job_id', 'text', (c) => c.primaryKey())
    .addColumn('namespace_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('target_selection', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('targets', 'text', (c) => c.notNull())
    .addColumn('document', 'text')
    .addColumn('raw_document', 'text')
    .addColumn('document_source', 'text')
    .addColumn('document_parameters', 'text')
    .addColumn('job_template_arn', 'text')
    .addColumn('presigned_url_config', 'text')
    .addColumn('rollout_config', 'text')
    .addColumn('abort_config', 'text')
    .addColumn('timeout_config', 'text')
    .addColumn('retry_config', 'text')
    .addColumn('scheduling_config', 'text')
    .addColumn('destination_package_versions', 'text')
    .addColumn('force_canceled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reason_code', 'text')
    .addColumn('comment', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_updated_at', 'bigint', (c) => c.notNull())
    .addColumn('completed_at', 'bigint')
    .addColumn('n_queued', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('n_in_progress', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('n_succeeded', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('n_failed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('n_rejected', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('n_canceled', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('n_removed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('n_timed_out', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('jobs_by_creation').on('jobs').columns(['created_at', 'job_id']).execute();
  await db.schema.createIndex('jobs_by_status').on('jobs').columns(['status', 'created_at', 'job_id']).execute();

  await db.schema
    .createTable('job_targets')
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('target_arn', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_name', 'text', (c) => c.notNull())
    /** thing id or thing-group id at the time the target was added (ListJobs thingGroupId). */
    .addColumn('target_id', 'text')
    .addPrimaryKeyConstraint('job_targets_pk', ['job_id', 'position'])
    .execute();
  await db.schema.createIndex('job_targets_by_name').on('job_targets').columns(['target_type', 'target_name', 'job_id']).execute();
  await db.schema.createIndex('job_targets_by_id').on('job_targets').columns(['target_id', 'job_id']).execute();

  await db.schema
    .createTable('job_executions')
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('thing_name', 'text', (c) => c.notNull())
    .addColumn('execution_number', 'bigint', (c) => c.notNull())
    /** '' for jobs without a namespace, so it can sit in an index. */
    .addColumn('namespace_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('queue_seq', 'bigint', (c) => c.notNull())
    .addColumn('queued_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('last_updated_at', 'bigint', (c) => c.notNull())
    .addColumn('version_number', 'bigint', (c) => c.notNull())
    .addColumn('status_details', 'text')
    .addColumn('force_canceled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('retry_attempt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('step_deadline_at', 'bigint')
    .addColumn('in_progress_deadline_at', 'bigint')
    /** min(step, in-progress) deadline while pending; the timeout reconciler scans this. */
    .addColumn('timeout_at', 'bigint')
    .addPrimaryKeyConstraint('job_executions_pk', ['job_id', 'thing_name', 'execution_number'])
    .execute();
  // A job's executions are listed by (thing, executionNumber): the primary key serves the unfiltered
  // list, this index the list by status and set-based changes of one status (CancelJob). Every index
  // here is paid for on each fanned-out execution, so there is no third per-job index.
  await db.schema
    .createIndex('job_executions_by_job_status')
    .on('job_executions')
    .columns(['job_id', 'status', 'thing_name', 'execution_number'])
    .execute();
  await db.schema
    .createIndex('job_executions_by_thing')
    .on('job_executions')
    .columns(['thing_name', 'namespace_id', 'status', 'queue_seq'])
    .execute();
  await db.schema
    .createIndex('job_executions_by_timeout')
    .on('job_executions')
    .column('timeout_at')
    .where(sql.ref('timeout_at'), 'is not', null)
    .execute();

  await db.schema
    .createTable('job_sequences')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .execute();
  await db.insertInto('job_sequences').values({ name: 'queue', value: 0 }).execute();
}
