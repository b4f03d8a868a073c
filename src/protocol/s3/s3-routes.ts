import type { IncomingHttpHeaders } from 'node:http';
import type { FsMultipartUploads } from '../../objects/fs-multipart.js';
import type { FsObjectStore } from '../../objects/fs-object-store.js';
import type { RouteDefinition, RouteHandler, RouteRequest, RouteResult, ServiceApi } from '../http/route.js';
import * as buckets from './s3-bucket-handlers.js';
import { notImplemented, s3Error, toS3Error, writeS3Error } from './s3-errors.js';
import { s3Operation } from './s3-operations.js';
import { parseS3Path } from './s3-http.js';
import { checkS3Input } from './s3-input.js';
import * as lists from './s3-list-handlers.js';
import * as multipart from './s3-multipart-handlers.js';
import * as objects from './s3-object-handlers.js';

/**
 * The embedded S3 subset, path-style (`/{bucket}/{key}`), served on our port under the signing
 * name `s3`. S3 tells operations apart by query subresources (`?versioning`, `?uploads`, ...),
 * which the router does not see, so each method + path shape has one dispatching handler.
 */
export interface S3ApiOptions {
  objects: FsObjectStore;
  multipart: FsMultipartUploads;
  region: string;
  accountId: string;
  /** Secret lookup for aws-chunked chunk signatures; undefined when authentication is off. */
  lookupSecret?: (accessKeyId: string) => string | undefined;
}

/** Subresources S3 has and this subset does not serve: answered 501 NotImplemented, never mistaken for another operation. */
const UNSUPPORTED = [
  'acl', 'accelerate', 'analytics', 'attributes', 'cors', 'encryption', 'intelligent-tiering', 'inventory', 'legal-hold', 'lifecycle',
  'logging', 'metadataTable', 'metrics', 'notification', 'object-lock', 'ownershipControls', 'policy', 'policyStatus', 'publicAccessBlock',
  'replication', 'requestPayment', 'restore', 'retention', 'select', 'session', 'tagging', 'torrent', 'website', 'renameObject',
];

function rejectUnsupported(req: RouteRequest, allowed: string[] = []): void {
  for (const name of UNSUPPORTED) if (req.query.has(name) && !allowed.includes(name)) throw notImplemented(`?${name}`);
}

export function s3Api(options: S3ApiOptions): ServiceApi {
  return { name: 's3', signingNames: ['s3'], badRequestError: 'InvalidRequestException', routes: s3Routes(options), writeError: writeS3Error };
}

export function s3Routes(o: S3ApiOptions): RouteDefinition[] {
  const target = (req: RouteRequest) => {
    const { bucket, key } = parseS3Path(req.raw.url ?? '/');
    if (bucket === undefined) throw s3Error('InvalidURI', 400, "Couldn't parse the specified URI.");
    return { bucket, key };
  };

  const bucketGet = (req: RouteRequest, bucket: string): Promise<RouteResult> => {
    rejectUnsupported(req);
    const q = req.query;
    if (q.has('versioning')) return buckets.getBucketVersioning(o, req, bucket);
    if (q.has('versions')) return lists.listObjectVersions(o, req, bucket);
    if (q.has('location')) return buckets.getBucketLocation(o, req, bucket);
    if (q.has('uploads')) throw notImplemented('ListMultipartUploads');
    if (q.get('list-type') === '2') return lists.listObjectsV2(o, req, bucket);
    return lists.listObjectsV1(o, req, bucket);
  };
  const bucketPut = (req: RouteRequest, bucket: string): Promise<RouteResult> => {
    rejectUnsupported(req);
    if (req.query.has('versioning')) return buckets.putBucketVersioning(o, req, bucket);
    return buckets.createBucket(o, req, bucket);
  };
  const bucketHead = (req: RouteRequest, bucket: string) => buckets.headBucket(o, req, bucket);
  const bucketDelete = (req: RouteRequest, bucket: string) => {
    rejectUnsupported(req);
    return buckets.deleteBucket(o, req, bucket);
  };
  const bucketPost = (req: RouteRequest, bucket: string) => {
    if (req.query.has('delete')) return buckets.deleteObjects(o, req, bucket);
    throw s3Error('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.', { Method: 'POST', ResourceType: 'BUCKET' });
  };

  const handlers = {
    GET: async (req: RouteRequest) => {
      const { bucket, key } = target(req);
      if (key === undefined) return bucketGet(req, bucket);
      rejectUnsupported(req);
      if (req.query.has('uploadId')) throw notImplemented('ListParts');
      return objects.getObject(o, req, bucket, key, false);
    },
    HEAD: async (req: RouteRequest) => {
      const { bucket, key } = target(req);
      if (key === undefined) return bucketHead(req, bucket);
      return objects.getObject(o, req, bucket, key, true);
    },
    PUT: async (req: RouteRequest) => {
      const { bucket, key } = target(req);
      if (key === undefined) return bucketPut(req, bucket);
      rejectUnsupported(req);
      if (req.query.has('uploadId') || req.query.has('partNumber')) return multipart.uploadPart(o, req, bucket, key);
      return objects.putObject(o, req, bucket, key);
    },
    DELETE: async (req: RouteRequest) => {
      const { bucket, key } = target(req);
      if (key === undefined) return bucketDelete(req, bucket);
      rejectUnsupported(req);
      if (req.query.has('uploadId')) return multipart.abortMultipartUpload(o, req, bucket, key);
      return objects.deleteObject(o, req, bucket, key);
    },
    POST: async (req: RouteRequest) => {
      const { bucket, key } = target(req);
      if (key === undefined) return bucketPost(req, bucket);
      rejectUnsupported(req);
      if (req.query.has('uploads')) return multipart.createMultipartUpload(o, req, bucket, key);
      if (req.query.has('uploadId')) return multipart.completeMultipartUpload(o, req, bucket, key);
      throw s3Error('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.', { Method: 'POST', ResourceType: 'OBJECT' });
    },
  };

  /** Object-store and aws-chunked failures leave as S3 errors. */
  const s3 = (fn: RouteHandler): RouteHandler => async (req) => {
    try {
      checkS3Input(req);
      return await fn(req);
    } catch (err) {
      throw toS3Error(err);
    }
  };

  const routes: RouteDefinition[] = [{ method: 'GET', path: '/', operation: 'ListBuckets', handler: s3((req) => buckets.listBuckets(o, req)) }];
  const on = (onObject: boolean, method: string) => (query: URLSearchParams, headers: IncomingHttpHeaders) => s3Operation(method, onObject, query, headers);
  for (const path of ['/:bucket', '/:bucket/']) {
    routes.push(
      { method: 'GET', path, operation: 'ListObjects', operationOf: on(false, 'GET'), handler: s3(handlers.GET) },
      { method: 'HEAD', path, operation: 'HeadBucket', handler: s3(handlers.HEAD) },
      { method: 'PUT', path, operation: 'CreateBucket', operationOf: on(false, 'PUT'), handler: s3(handlers.PUT), body: 'raw' },
      { method: 'DELETE', path, operation: 'DeleteBucket', handler: s3(handlers.DELETE) },
      { method: 'POST', path, operation: 'DeleteObjects', operationOf: on(false, 'POST'), handler: s3(handlers.POST), body: 'raw' },
    );
  }
  routes.push(
    { method: 'GET', path: '/:bucket/*', operation: 'GetObject', operationOf: on(true, 'GET'), handler: s3(handlers.GET) },
    { method: 'HEAD', path: '/:bucket/*', operation: 'HeadObject', handler: s3(handlers.HEAD) },
    { method: 'PUT', path: '/:bucket/*', operation: 'PutObject', operationOf: on(true, 'PUT'), handler: s3(handlers.PUT), body: 'stream' },
    { method: 'DELETE', path: '/:bucket/*', operation: 'DeleteObject', operationOf: on(true, 'DELETE'), handler: s3(handlers.DELETE) },
    { method: 'POST', path: '/:bucket/*', operation: 'CreateMultipartUpload', operationOf: on(true, 'POST'), handler: s3(handlers.POST), body: 'raw' },
  );
  return routes;
}
