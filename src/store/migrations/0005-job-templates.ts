import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * Custom job templates (jobs.md §7.4). The configuration members are JSON text, as in `jobs`.
 * ListJobTemplates pages newest first, on (created_at, job_template_id).
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('job_templates')
    .addColumn('job_template_id', 'text', (c) => c.primaryKey())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('document', 'text')
    .addColumn('document_source', 'text')
    .addColumn('presigned_url_config', 'text')
    .addColumn('rollout_config', 'text')
    .addColumn('abort_config', 'text')
    .addColumn('timeout_config', 'text')
    .addColumn('retry_config', 'text')
    .addColumn('maintenance_windows', 'text')
    .addColumn('destination_package_versions', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('job_templates_by_creation').on('job_templates').columns(['created_at', 'job_template_id']).execute();
}
