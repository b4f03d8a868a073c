import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../schema.js';

/**
 * The embedded object store's metadata (the bytes live in files under <dataDir>/objects/).
 * Object keys are compared byte-wise, as S3 lists them in UTF-8 binary order: PostgreSQL gets
 * COLLATE "C" on the key column (SQLite's default BINARY collation already is byte order).
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const binary = dialect === 'postgres' ? sql`collate "C"` : sql``;

  await db.schema
    .createTable('s3_buckets')
    .addColumn('bucket_name', 'text', (c) => c.primaryKey())
    // '' (never set), 'Enabled' or 'Suspended'
    .addColumn('versioning', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('s3_object_versions')
    .addColumn('bucket_name', 'text', (c) => c.notNull())
    .addColumn('object_key', 'text', (c) => c.notNull().modifyFront(binary))
    // 'null' for objects written while versioning was off or suspended, as S3 names them
    .addColumn('version_id', 'text', (c) => c.notNull())
    // Newer versions of one key have larger seq; orders ListObjectVersions newest first.
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('is_latest', 'integer', (c) => c.notNull())
    .addColumn('is_delete_marker', 'integer', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('etag', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text')
    // JSON: user metadata (x-amz-meta-*) and the other stored content headers
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('headers', 'text', (c) => c.notNull())
    // 'CRC32:<base64>' when the uploader sent a whole-object checksum
    .addColumn('checksum', 'text')
    // File name under the bucket's directory; null for delete markers
    .addColumn('file', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('s3_object_versions_pk', ['bucket_name', 'object_key', 'version_id'])
    .execute();
  await db.schema.createIndex('s3_object_versions_by_seq').unique().on('s3_object_versions').columns(['bucket_name', 'object_key', 'seq']).execute();
  // ListObjectsV2 walks the latest versions of a bucket in key order.
  await db.schema.createIndex('s3_object_versions_latest').on('s3_object_versions').columns(['bucket_name', 'is_latest', 'object_key']).execute();
  await db.schema.createIndex('s3_object_versions_by_file').on('s3_object_versions').column('file').execute();

  await db.schema
    .createTable('s3_multipart_uploads')
    .addColumn('upload_id', 'text', (c) => c.primaryKey())
    .addColumn('bucket_name', 'text', (c) => c.notNull())
    .addColumn('object_key', 'text', (c) => c.notNull().modifyFront(binary))
    .addColumn('content_type', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('headers', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('s3_multipart_uploads_by_bucket').on('s3_multipart_uploads').columns(['bucket_name', 'object_key']).execute();

  await db.schema
    .createTable('s3_multipart_parts')
    .addColumn('upload_id', 'text', (c) => c.notNull())
    .addColumn('part_number', 'integer', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('etag', 'text', (c) => c.notNull())
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('s3_multipart_parts_pk', ['upload_id', 'part_number'])
    .execute();
  await db.schema.createIndex('s3_multipart_parts_by_file').on('s3_multipart_parts').column('file').execute();
}
