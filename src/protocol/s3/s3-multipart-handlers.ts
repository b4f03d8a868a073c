import type { FsMultipartUploads } from '../../objects/fs-multipart.js';
import { encodeS3Key } from '../../objects/own-url-presigner.js';
import type { RouteRequest, RouteResult } from '../http/route.js';
import { malformedXml, readXmlBody } from './s3-bucket-handlers.js';
import { notImplemented } from './s3-errors.js';
import { emptyResult, xmlResult } from './s3-http.js';
import { objectAttributesFrom, parsePartNumber, prepareUpload } from './s3-upload.js';
import { child, children, el } from './xml.js';

/** CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload. */
export interface MultipartHandlerContext {
  multipart: FsMultipartUploads;
  lookupSecret?: (accessKeyId: string) => string | undefined;
}

export async function createMultipartUpload(ctx: MultipartHandlerContext, req: RouteRequest, bucket: string, key: string): Promise<RouteResult> {
  const uploadId = await ctx.multipart.create(bucket, key, objectAttributesFrom(req.headers));
  return xmlResult(req, 'InitiateMultipartUploadResult', el('Bucket', bucket) + el('Key', key) + el('UploadId', uploadId));
}

export async function uploadPart(ctx: MultipartHandlerContext, req: RouteRequest, bucket: string, key: string): Promise<RouteResult> {
  if (req.headers['x-amz-copy-source'] !== undefined) throw notImplemented('UploadPartCopy');
  const partNumber = parsePartNumber(req.query.get('partNumber'));
  const upload = prepareUpload(req.raw, ctx.lookupSecret);
  const { etag } = await ctx.multipart.uploadPart(bucket, key, req.query.get('uploadId') ?? '', partNumber, upload.body, upload.check);
  return emptyResult(req, 200, { etag, ...upload.checksumHeaders() });
}

export async function completeMultipartUpload(ctx: MultipartHandlerContext, req: RouteRequest, bucket: string, key: string): Promise<RouteResult> {
  const doc = readXmlBody(req);
  if (!doc || doc.name !== 'CompleteMultipartUpload') throw malformedXml();
  const parts = children(doc, 'Part').map((p) => {
    const n = child(p, 'PartNumber')?.text.trim() ?? '';
    const etag = child(p, 'ETag')?.text.trim();
    if (!/^\d{1,5}$/.test(n) || etag === undefined) throw malformedXml();
    return { partNumber: Number(n), etag };
  });
  const object = await ctx.multipart.complete(bucket, key, req.query.get('uploadId') ?? '', parts);
  const host = req.headers.host ?? 'localhost';
  return xmlResult(
    req,
    'CompleteMultipartUploadResult',
    el('Location', `http://${host}/${bucket}/${encodeS3Key(key)}`) + el('Bucket', bucket) + el('Key', key) + el('ETag', object.etag),
    object.versionId !== 'null' ? { 'x-amz-version-id': object.versionId } : {},
  );
}

export async function abortMultipartUpload(ctx: MultipartHandlerContext, req: RouteRequest, bucket: string, key: string): Promise<RouteResult> {
  await ctx.multipart.abort(bucket, key, req.query.get('uploadId') ?? '');
  return emptyResult(req, 204);
}
