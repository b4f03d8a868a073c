import type { Readable } from 'node:stream';

/**
 * Object storage behind the catalog (artifacts, SBOMs) and the jobs (documentSource, presigned
 * downloads). Two implementations: the embedded store on disk (served on our own port as an S3
 * subset) and any real S3 service through @aws-sdk/client-s3.
 */
export interface ObjectHead {
  bucket: string;
  key: string;
  /** Undefined when the bucket is not versioned. */
  versionId?: string;
  size: number;
  etag: string;
  contentType?: string;
  lastModified: Date;
}

export type ObjectLookup =
  | { found: true; head: ObjectHead }
  | { found: false; missing: 'bucket' | 'key' | 'version' };

export interface ObjectStore {
  /** Describes an object (a given version, or the latest). Never throws for "not there". */
  head(bucket: string, key: string, versionId?: string): Promise<ObjectLookup>;
  /** Streams an object's bytes; rejects when it does not exist. */
  open(bucket: string, key: string, versionId?: string): Promise<{ head: ObjectHead; body: Readable }>;
  /** A URL a device can GET without credentials until it expires. */
  presignGet(bucket: string, key: string, versionId: string | undefined, expiresInSeconds: number): Promise<string>;
  /** A URL a device can PUT an object's bytes to without credentials until it expires. */
  presignPut(bucket: string, key: string, expiresInSeconds: number): Promise<string>;
}
