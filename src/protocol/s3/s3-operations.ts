import type { IncomingHttpHeaders } from 'node:http';

/**
 * The S3 operation a request is, by method, bucket or object, subresource and copy header, as S3
 * names it (the request log's `operation`). The routes share one handler per method and resource.
 */
export function s3Operation(method: string, onObject: boolean, query: URLSearchParams, headers: IncomingHttpHeaders): string {
  const copy = headers['x-amz-copy-source'] !== undefined;
  if (!onObject) {
    switch (method) {
      case 'GET':
        if (query.has('versioning')) return 'GetBucketVersioning';
        if (query.has('location')) return 'GetBucketLocation';
        if (query.has('uploads')) return 'ListMultipartUploads';
        if (query.has('versions')) return 'ListObjectVersions';
        return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      case 'PUT':
        return query.has('versioning') ? 'PutBucketVersioning' : 'CreateBucket';
      case 'POST':
        return query.has('delete') ? 'DeleteObjects' : 'PostBucket';
      case 'HEAD':
        return 'HeadBucket';
      default:
        return 'DeleteBucket';
    }
  }
  switch (method) {
    case 'GET':
      return query.has('uploadId') ? 'ListParts' : 'GetObject';
    case 'PUT':
      if (query.has('uploadId')) return copy ? 'UploadPartCopy' : 'UploadPart';
      return copy ? 'CopyObject' : 'PutObject';
    case 'POST':
      if (query.has('uploads')) return 'CreateMultipartUpload';
      return query.has('uploadId') ? 'CompleteMultipartUpload' : 'PostObject';
    case 'HEAD':
      return 'HeadObject';
    default:
      return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  }
}
