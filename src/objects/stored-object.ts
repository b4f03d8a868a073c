import { randomBytes } from 'node:crypto';
import type { S3ObjectVersionRow } from '../store/objects.js';
import type { ObjectHead } from './object-store.js';

/** One version of an object (or a delete marker) as the embedded store describes it. */
export interface StoredObject {
  bucket: string;
  key: string;
  /** 'null' for versions written while versioning was off or suspended, as S3 names them. */
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  size: number;
  /** MD5 hex in double quotes (with a `-N` suffix for multipart uploads). */
  etag: string;
  contentType?: string;
  metadata: Record<string, string>;
  /** Other content headers given at upload (content-encoding, cache-control, ...). */
  headers: Record<string, string>;
  /** 'CRC32:<base64>' when the uploader sent a whole-object checksum. */
  checksum?: string;
  lastModified: Date;
  file?: string;
  /** The bucket has (or had) versioning: S3 then reports even the 'null' version id. */
  versioned?: boolean;
}

export interface BucketInfo {
  name: string;
  createdAt: Date;
  /** '' (never configured), 'Enabled' or 'Suspended'. */
  versioning: '' | 'Enabled' | 'Suspended';
}

/** What an upload stores besides its bytes. */
export interface ObjectAttributes {
  contentType?: string;
  metadata: Record<string, string>;
  headers: Record<string, string>;
  checksum?: string;
}

export function toStoredObject(row: S3ObjectVersionRow): StoredObject {
  return {
    bucket: row.bucket_name,
    key: row.object_key,
    versionId: row.version_id,
    isLatest: row.is_latest === 1,
    deleteMarker: row.is_delete_marker === 1,
    size: Number(row.size),
    etag: row.etag,
    ...(row.content_type !== null ? { contentType: row.content_type } : {}),
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    headers: JSON.parse(row.headers) as Record<string, string>,
    ...(row.checksum !== null ? { checksum: row.checksum } : {}),
    lastModified: new Date(Number(row.created_at)),
    ...(row.file !== null ? { file: row.file } : {}),
  };
}

export function toHead(o: StoredObject): ObjectHead {
  return {
    bucket: o.bucket,
    key: o.key,
    ...(o.versionId !== 'null' ? { versionId: o.versionId } : {}),
    size: o.size,
    etag: o.etag,
    ...(o.contentType !== undefined ? { contentType: o.contentType } : {}),
    lastModified: o.lastModified,
  };
}

/** 32 URL-safe characters, the shape of S3's version ids. */
/**
 * 32 characters of `[A-Za-z0-9._]`, as AWS's version ids look. Never a '-': an id starting with one
 * is read as an option by the AWS CLI (`--version-id -abc…` fails), which a quarter of ids would do.
 */
export function newVersionId(): string {
  return randomBytes(24).toString('base64url').replace(/-/g, '.');
}

/** S3's bucket naming rules (general purpose buckets). */
export function isValidBucketName(name: string): boolean {
  return (
    name.length >= 3 &&
    name.length <= 63 &&
    /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !name.startsWith('xn--') &&
    !name.endsWith('-s3alias')
  );
}
