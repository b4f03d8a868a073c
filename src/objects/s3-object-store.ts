import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { ObjectStoreError, noSuchBucket, noSuchKey, noSuchVersion } from './errors.js';
import type { ObjectHead, ObjectLookup, ObjectStore } from './object-store.js';

export interface S3BackendConfig {
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

type S3Sdk = typeof import('@aws-sdk/client-s3');
type Presign = typeof import('@aws-sdk/s3-request-presigner').getSignedUrl;

interface SdkError {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

const statusOf = (err: unknown) => (err as SdkError).$metadata?.httpStatusCode;

/**
 * The ObjectStore port over any real S3 service (AWS S3, MinIO, moto, ...) through
 * @aws-sdk/client-s3. HeadObject's 404 carries no body, so "which part is missing" is found by
 * asking again: HeadBucket, then the object without its version.
 */
export class S3ObjectStore implements ObjectStore {
  private constructor(
    private readonly sdk: S3Sdk,
    private readonly client: S3Client,
    private readonly presigner: Presign,
  ) {}

  /** Loads the SDK only when an external S3 is configured, so the embedded default does not need it. */
  static async create(config: S3BackendConfig): Promise<S3ObjectStore> {
    const sdk = await import('@aws-sdk/client-s3');
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    const client = new sdk.S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      ...(config.accessKeyId && config.secretAccessKey ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } } : {}),
      // Reads are for existence checks and small documents; do not let a checksum-less server fail them.
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    return new S3ObjectStore(sdk, client, getSignedUrl);
  }

  close(): void {
    this.client.destroy();
  }

  async head(bucket: string, key: string, versionId?: string): Promise<ObjectLookup> {
    try {
      const out = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
      return { found: true, head: toHead(bucket, key, out) };
    } catch (err) {
      const status = statusOf(err);
      // 404 (missing), 405 (a delete marker), 400 (a malformed version id), 403 (no permission: as AWS's catalog says, "not accessible")
      if (status !== 404 && status !== 405 && status !== 400 && status !== 403) throw err;
      return { found: false, missing: await this.whatIsMissing(bucket, key, versionId) };
    }
  }

  private async whatIsMissing(bucket: string, key: string, versionId?: string): Promise<'bucket' | 'key' | 'version'> {
    try {
      await this.client.send(new this.sdk.HeadBucketCommand({ Bucket: bucket }));
    } catch (err) {
      const status = statusOf(err);
      if (status === 404 || status === 403 || status === 400) return 'bucket';
      throw err;
    }
    if (versionId === undefined) return 'key';
    try {
      await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
      return 'version';
    } catch (err) {
      const status = statusOf(err);
      if (status === 404 || status === 405 || status === 403) return 'key';
      throw err;
    }
  }

  async open(bucket: string, key: string, versionId?: string): Promise<{ head: ObjectHead; body: Readable }> {
    try {
      const out = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
      return { head: toHead(bucket, key, out), body: out.Body as Readable };
    } catch (err) {
      const e = err as SdkError;
      const code = e.Code ?? e.name;
      if (code === 'NoSuchBucket') throw noSuchBucket(bucket);
      if (code === 'NoSuchKey') throw noSuchKey(key);
      if (code === 'NoSuchVersion' || (versionId !== undefined && statusOf(err) === 400)) throw noSuchVersion(key, versionId ?? '');
      if (statusOf(err) === 404 || statusOf(err) === 405) throw noSuchKey(key);
      if (statusOf(err) === 403) throw new ObjectStoreError('AccessDenied', 'Access Denied');
      throw err;
    }
  }

  presignGet(bucket: string, key: string, versionId: string | undefined, expiresInSeconds: number): Promise<string> {
    return this.presigner(this.client, new this.sdk.GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }), { expiresIn: expiresInSeconds });
  }

  presignPut(bucket: string, key: string, expiresInSeconds: number): Promise<string> {
    return this.presigner(this.client, new this.sdk.PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds });
  }
}

function toHead(
  bucket: string,
  key: string,
  out: { VersionId?: string; ContentLength?: number; ETag?: string; ContentType?: string; LastModified?: Date },
): ObjectHead {
  return {
    bucket,
    key,
    ...(out.VersionId && out.VersionId !== 'null' ? { versionId: out.VersionId } : {}),
    size: out.ContentLength ?? 0,
    etag: out.ETag ?? '',
    ...(out.ContentType ? { contentType: out.ContentType } : {}),
    lastModified: out.LastModified ?? new Date(0),
  };
}
