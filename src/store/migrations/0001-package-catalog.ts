import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('packages')
    .addColumn('package_name', 'text', (c) => c.primaryKey())
    .addColumn('description', 'text')
    .addColumn('default_version_name', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('package_versions')
    .addColumn('package_name', 'text', (c) => c.notNull())
    .addColumn('version_name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('attributes', 'text')
    .addColumn('artifact', 'text')
    .addColumn('recipe', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('sbom', 'text')
    .addColumn('sbom_validation_status', 'text')
    .addColumn('sbom_generation', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('package_versions_pk', ['package_name', 'version_name'])
    .execute();
  await db.schema
    .createIndex('package_versions_by_creation')
    .on('package_versions')
    .columns(['package_name', 'created_at', 'version_name'])
    .execute();

  await db.schema
    .createTable('sbom_validation_results')
    .addColumn('package_name', 'text', (c) => c.notNull())
    .addColumn('version_name', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('validation_result', 'text', (c) => c.notNull())
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addPrimaryKeyConstraint('sbom_validation_results_pk', ['package_name', 'version_name', 'file_name'])
    .execute();

  await db.schema
    .createTable('tags')
    .addColumn('resource_arn', 'text', (c) => c.notNull())
    .addColumn('tag_key', 'text', (c) => c.notNull())
    .addColumn('tag_value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('tags_pk', ['resource_arn', 'tag_key'])
    .execute();

  await db.schema
    .createTable('idempotency_tokens')
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('client_token', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_tokens_pk', ['operation', 'client_token'])
    .execute();

  await db.schema
    .createTable('settings')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}
