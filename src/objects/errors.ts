/**
 * Failures of the object stores, named with S3's error codes (the vocabulary of object storage).
 * Domain-free on purpose: the S3 door turns them into S3 XML errors, the catalog and jobs turn a
 * missing object into their own AWS exceptions.
 */
export type ObjectErrorCode =
  | 'NoSuchBucket'
  | 'NoSuchKey'
  | 'NoSuchVersion'
  | 'NoSuchUpload'
  | 'BucketAlreadyOwnedByYou'
  | 'BucketNotEmpty'
  | 'InvalidBucketName'
  | 'KeyTooLongError'
  | 'MethodNotAllowed'
  | 'InvalidArgument'
  | 'InvalidRange'
  | 'InvalidPart'
  | 'InvalidPartOrder'
  | 'EntityTooSmall'
  | 'EntityTooLarge'
  | 'MalformedXML'
  | 'IncompleteBody'
  | 'BadDigest'
  | 'InvalidDigest'
  | 'XAmzContentSHA256Mismatch'
  | 'SignatureDoesNotMatch'
  | 'InvalidRequest'
  | 'AccessDenied'
  | 'InternalError';

const STATUS: Record<ObjectErrorCode, number> = {
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchVersion: 404,
  NoSuchUpload: 404,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  InvalidBucketName: 400,
  KeyTooLongError: 400,
  MethodNotAllowed: 405,
  InvalidArgument: 400,
  InvalidRange: 416,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  EntityTooSmall: 400,
  EntityTooLarge: 400,
  MalformedXML: 400,
  IncompleteBody: 400,
  BadDigest: 400,
  InvalidDigest: 400,
  XAmzContentSHA256Mismatch: 400,
  SignatureDoesNotMatch: 403,
  InvalidRequest: 400,
  AccessDenied: 403,
  InternalError: 500,
};

export class ObjectStoreError extends Error {
  readonly status: number;
  constructor(
    readonly code: ObjectErrorCode,
    message: string,
    /** Extra elements of S3's XML error (BucketName, Key, VersionId, ...) and response headers. */
    readonly detail: { elements?: Record<string, string>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = code;
    this.status = STATUS[code];
  }
}

export const noSuchBucket = (bucket: string) =>
  new ObjectStoreError('NoSuchBucket', 'The specified bucket does not exist', { elements: { BucketName: bucket } });
export const noSuchKey = (key: string, headers?: Record<string, string>) =>
  new ObjectStoreError('NoSuchKey', 'The specified key does not exist.', { elements: { Key: key }, headers });
export const noSuchVersion = (key: string, versionId: string) =>
  new ObjectStoreError('NoSuchVersion', 'The specified version does not exist.', { elements: { Key: key, VersionId: versionId } });
