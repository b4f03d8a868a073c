import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

declare module './schema.js' {
  interface Database {
    s3_buckets: S3BucketRow;
    s3_object_versions: S3ObjectVersionRow;
    s3_multipart_uploads: S3MultipartUploadRow;
    s3_multipart_parts: S3MultipartPartRow;
  }
}

export interface S3BucketRow {
  bucket_name: string;
  /** '' (never configured), 'Enabled' or 'Suspended'. */
  versioning: string;
  created_at: number;
}

export interface S3ObjectVersionRow {
  bucket_name: string;
  object_key: string;
  /** 'null' for unversioned writes. */
  version_id: string;
  seq: number;
  is_latest: number;
  is_delete_marker: number;
  size: number;
  etag: string;
  content_type: string | null;
  /** JSON object: user metadata (x-amz-meta-* without the prefix). */
  metadata: string;
  /** JSON object: other stored content headers (content-encoding, cache-control, ...). */
  headers: string;
  checksum: string | null;
  file: string | null;
  created_at: number;
}

export interface S3MultipartUploadRow {
  upload_id: string;
  bucket_name: string;
  object_key: string;
  content_type: string | null;
  metadata: string;
  headers: string;
  created_at: number;
}

export interface S3MultipartPartRow {
  upload_id: string;
  part_number: number;
  size: number;
  etag: string;
  file: string;
  created_at: number;
}

/** Buckets, object versions and multipart uploads of the embedded object store. */
export class ObjectMetadataStore {
  constructor(private readonly db: Kysely<Database>) {}

  getBucket(name: string): Promise<S3BucketRow | undefined> {
    return this.db.selectFrom('s3_buckets').selectAll().where('bucket_name', '=', name).executeTakeFirst();
  }

  async insertBucket(row: S3BucketRow): Promise<void> {
    await this.db.insertInto('s3_buckets').values(row).execute();
  }

  listBuckets(): Promise<S3BucketRow[]> {
    return this.db.selectFrom('s3_buckets').selectAll().orderBy('bucket_name').execute();
  }

  async setVersioning(name: string, status: string): Promise<void> {
    await this.db.updateTable('s3_buckets').set({ versioning: status }).where('bucket_name', '=', name).execute();
  }

  async deleteBucket(name: string): Promise<void> {
    await this.db.deleteFrom('s3_buckets').where('bucket_name', '=', name).execute();
  }

  /** Whether the bucket holds any object version, delete marker or unfinished upload. */
  async bucketHasContent(name: string): Promise<boolean> {
    const v = await this.db.selectFrom('s3_object_versions').select('object_key').where('bucket_name', '=', name).limit(1).executeTakeFirst();
    if (v) return true;
    const u = await this.db.selectFrom('s3_multipart_uploads').select('upload_id').where('bucket_name', '=', name).limit(1).executeTakeFirst();
    return u !== undefined;
  }

  getVersion(bucket: string, key: string, versionId: string): Promise<S3ObjectVersionRow | undefined> {
    return this.db
      .selectFrom('s3_object_versions')
      .selectAll()
      .where('bucket_name', '=', bucket)
      .where('object_key', '=', key)
      .where('version_id', '=', versionId)
      .executeTakeFirst();
  }

  getLatest(bucket: string, key: string): Promise<S3ObjectVersionRow | undefined> {
    return this.db
      .selectFrom('s3_object_versions')
      .selectAll()
      .where('bucket_name', '=', bucket)
      .where('is_latest', '=', 1)
      .where('object_key', '=', key)
      .executeTakeFirst();
  }

  async maxSeq(bucket: string, key: string): Promise<number> {
    const row = await this.db
      .selectFrom('s3_object_versions')
      .select('seq')
      .where('bucket_name', '=', bucket)
      .where('object_key', '=', key)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? Number(row.seq) : 0;
  }

  async clearLatest(bucket: string, key: string): Promise<void> {
    await this.db
      .updateTable('s3_object_versions')
      .set({ is_latest: 0 })
      .where('bucket_name', '=', bucket)
      .where('is_latest', '=', 1)
      .where('object_key', '=', key)
      .execute();
  }

  /** Marks the newest remaining version of a key as latest (after the latest one was removed). */
  async promoteNewest(bucket: string, key: string): Promise<void> {
    const newest = await this.db
      .selectFrom('s3_object_versions')
      .select('version_id')
      .where('bucket_name', '=', bucket)
      .where('object_key', '=', key)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!newest) return;
    await this.db
      .updateTable('s3_object_versions')
      .set({ is_latest: 1 })
      .where('bucket_name', '=', bucket)
      .where('object_key', '=', key)
      .where('version_id', '=', newest.version_id)
      .execute();
  }

  async insertVersion(row: S3ObjectVersionRow): Promise<void> {
    await this.db.insertInto('s3_object_versions').values(row).execute();
  }

  async deleteVersion(bucket: string, key: string, versionId: string): Promise<void> {
    await this.db
      .deleteFrom('s3_object_versions')
      .where('bucket_name', '=', bucket)
      .where('object_key', '=', key)
      .where('version_id', '=', versionId)
      .execute();
  }

  /** Latest versions that are objects (not delete markers), keys >= `fromKey` (or > `afterKey`), in byte order. */
  listLatest(bucket: string, from: { key: string; inclusive: boolean }, limit: number): Promise<S3ObjectVersionRow[]> {
    return this.db
      .selectFrom('s3_object_versions')
      .selectAll()
      .where('bucket_name', '=', bucket)
      .where('is_latest', '=', 1)
      .where('object_key', from.inclusive ? '>=' : '>', from.key)
      .where('is_delete_marker', '=', 0)
      .orderBy('object_key')
      .limit(limit)
      .execute();
  }

  /** All versions in key order, newest first per key, after the given position. */
  listVersions(bucket: string, from: { key: string; inclusive: boolean; beforeSeq?: number }, limit: number): Promise<S3ObjectVersionRow[]> {
    let q = this.db.selectFrom('s3_object_versions').selectAll().where('bucket_name', '=', bucket);
    const { key, beforeSeq } = from;
    if (beforeSeq !== undefined) {
      // The leading `>=` bounds the index range; the OR only trims the marker key's newer versions.
      q = q.where('object_key', '>=', key).where((eb) => eb.or([eb('object_key', '>', key), eb('seq', '<', beforeSeq)]));
    } else {
      q = q.where('object_key', from.inclusive ? '>=' : '>', key);
    }
    return q.orderBy('object_key').orderBy('seq', 'desc').limit(limit).execute();
  }

  /** Which of these file names some version or part still points at. */
  async referencedFiles(files: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    if (files.length === 0) return out;
    const a = await this.db.selectFrom('s3_object_versions').select('file').where('file', 'in', files).execute();
    const b = await this.db.selectFrom('s3_multipart_parts').select('file').where('file', 'in', files).execute();
    for (const r of [...a, ...b]) if (r.file) out.add(r.file);
    return out;
  }

  async insertUpload(row: S3MultipartUploadRow): Promise<void> {
    await this.db.insertInto('s3_multipart_uploads').values(row).execute();
  }

  getUpload(uploadId: string): Promise<S3MultipartUploadRow | undefined> {
    return this.db.selectFrom('s3_multipart_uploads').selectAll().where('upload_id', '=', uploadId).executeTakeFirst();
  }

  async deleteUpload(uploadId: string): Promise<void> {
    await this.db.deleteFrom('s3_multipart_parts').where('upload_id', '=', uploadId).execute();
    await this.db.deleteFrom('s3_multipart_uploads').where('upload_id', '=', uploadId).execute();
  }

  getPart(uploadId: string, partNumber: number): Promise<S3MultipartPartRow | undefined> {
    return this.db.selectFrom('s3_multipart_parts').selectAll().where('upload_id', '=', uploadId).where('part_number', '=', partNumber).executeTakeFirst();
  }

  async putPart(row: S3MultipartPartRow): Promise<void> {
    await this.db.deleteFrom('s3_multipart_parts').where('upload_id', '=', row.upload_id).where('part_number', '=', row.part_number).execute();
    await this.db.insertInto('s3_multipart_parts').values(row).execute();
  }

  listParts(uploadId: string): Promise<S3MultipartPartRow[]> {
    return this.db.selectFrom('s3_multipart_parts').selectAll().where('upload_id', '=', uploadId).orderBy('part_number').execute();
  }
}
