import type { CreateTableBuilder, Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * Device certificates, registered CA certificates, the registration code, thing principals
 * (issue 11 items 2 and 3) and the fingerprint of the device CA the instances on this database
 * share (decision 0031). Listing is by creation date, newest first by default; the indexes keep
 * every list and a certificate's things a range read.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('certificates')
    .addColumn('certificate_id', 'text', (c) => c.primaryKey())
    .addColumn('certificate_pem', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('ca_certificate_id', 'text')
    .$call(described)
    .execute();
  await db.schema.createIndex('certificates_by_date').on('certificates').columns(['created_at', 'certificate_id']).execute();
  await db.schema.createIndex('certificates_by_ca').on('certificates').columns(['ca_certificate_id', 'created_at', 'certificate_id']).execute();
  await db.schema
    .createTable('ca_certificates')
    .addColumn('certificate_id', 'text', (c) => c.primaryKey())
    .addColumn('certificate_pem', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('auto_registration_status', 'text', (c) => c.notNull())
    .addColumn('registration_config', 'text')
    .$call(described)
    .execute();
  await db.schema.createIndex('ca_certificates_by_date').on('ca_certificates').columns(['created_at', 'certificate_id']).execute();
  await db.schema.createIndex('ca_certificates_by_subject').on('ca_certificates').columns(['subject']).execute();
  await db.schema
    .createTable('registration_codes')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('code', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('thing_principals')
    .addColumn('thing_name', 'text', (c) => c.notNull())
    .addColumn('principal', 'text', (c) => c.notNull())
    .addColumn('principal_type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('thing_principals_pk', ['thing_name', 'principal'])
    .execute();
  await db.schema.createIndex('thing_principals_by_principal').on('thing_principals').columns(['principal', 'thing_name']).execute();
  await db.schema
    .createTable('server_device_ca')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('certificate_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

/** What a certificate's and a CA certificate's descriptions share (device-security.md §3.5). */
function described<T extends string>(t: CreateTableBuilder<T, never>): CreateTableBuilder<T, never> {
  return t
    .addColumn('certificate_mode', 'text', (c) => c.notNull())
    .addColumn('not_before', 'bigint', (c) => c.notNull())
    .addColumn('not_after', 'bigint', (c) => c.notNull())
    .addColumn('customer_version', 'integer', (c) => c.notNull())
    .addColumn('generation_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_modified_at', 'bigint', (c) => c.notNull());
}
