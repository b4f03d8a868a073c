import type { FsObjectStore } from '../../objects/fs-object-store.js';
import type { RouteRequest, RouteResult } from '../http/route.js';
import { invalidArgument, s3Error, toS3Error } from './s3-errors.js';
import { emptyResult, isoDate, ownerXml, xmlResult } from './s3-http.js';
import { child, children, el, parseXml, wrap, XmlError, type XmlElement } from './xml.js';

/** Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, versioning, location, DeleteObjects. */
export interface BucketHandlerContext {
  objects: FsObjectStore;
  region: string;
  accountId: string;
}

export function readXmlBody(req: RouteRequest): XmlElement | undefined {
  const text = req.rawBody.toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return parseXml(text);
  } catch (err) {
    if (err instanceof XmlError) throw malformedXml();
    throw err;
  }
}

export const malformedXml = () => s3Error('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema');

export async function listBuckets(ctx: BucketHandlerContext, req: RouteRequest): Promise<RouteResult> {
  const buckets = await ctx.objects.listBuckets();
  const inner =
    ownerXml(ctx.accountId) +
    wrap('Buckets', buckets.map((b) => wrap('Bucket', el('Name', b.name) + el('CreationDate', isoDate(b.createdAt)) + el('BucketRegion', ctx.region))).join(''));
  return xmlResult(req, 'ListAllMyBucketsResult', inner);
}

export async function createBucket(ctx: BucketHandlerContext, req: RouteRequest, bucket: string): Promise<RouteResult> {
  const config = readXmlBody(req);
  if (config) {
    if (config.name !== 'CreateBucketConfiguration') throw malformedXml();
    const constraint = child(config, 'LocationConstraint')?.text.trim();
    if (constraint && constraint !== ctx.region) {
      throw s3Error('IllegalLocationConstraintException', 400, `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`);
    }
  }
  const outcome = await ctx.objects.createBucket(bucket);
  // us-east-1 answers 200 to a repeated CreateBucket by the owner (a legacy S3 behaviour); other regions 409.
  if (outcome === 'exists' && ctx.region !== 'us-east-1') {
    throw s3Error('BucketAlreadyOwnedByYou', 409, 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: bucket });
  }
  return emptyResult(req, 200, { location: `/${bucket}` });
}

export async function headBucket(ctx: BucketHandlerContext, req: RouteRequest, bucket: string): Promise<RouteResult> {
  await ctx.objects.requireBucket(bucket);
  return emptyResult(req, 200, { 'x-amz-bucket-region': ctx.region });
}

export async function deleteBucket(ctx: BucketHandlerContext, req: RouteRequest, bucket: string): Promise<RouteResult> {
  await ctx.objects.deleteBucket(bucket);
  return emptyResult(req, 204);
}

export async function getBucketVersioning(ctx: BucketHandlerContext, req: RouteRequest, bucket: string): Promise<RouteResult> {
  const b = await ctx.objects.requireBucket(bucket);
  return xmlResult(req, 'VersioningConfiguration', b.versioning ? el('Status', b.versioning) : '');
}

export async function putBucketVersioning(ctx: BucketHandlerContext, req: RouteRequest, bucket: string): Promise<RouteResult> {
  const config = readXmlBody(req);
  const status = config?.name === 'VersioningConfiguration' ? child(config, 'Status')?.text.trim() : undefined;
  if (status !== 'Enabled' && status !== 'Suspended') throw malformedXml();
  await ctx.objects.setVersioning(bucket, status);
  return emptyResult(req, 200);
}

export async function getBucketLocation(ctx: BucketHandlerContext, req: RouteRequest, bucket: string): Promise<RouteResult> {
  await ctx.objects.requireBucket(bucket);
  return {
    status: 200,
    rawBody: `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${ctx.region === 'us-east-1' ? '' : ctx.region}</LocationConstraint>`,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': req.requestId },
  };
}

/** DeleteObjects (`POST /{bucket}?delete`): up to 1000 keys, per-key results, Quiet mode. */
export async function deleteObjects(ctx: BucketHandlerContext, req: RouteRequest, bucket: string): Promise<RouteResult> {
  const doc = readXmlBody(req);
  if (!doc || doc.name !== 'Delete') throw malformedXml();
  const quiet = child(doc, 'Quiet')?.text.trim() === 'true';
  const items = children(doc, 'Object').map((o) => ({ key: child(o, 'Key')?.text, versionId: child(o, 'VersionId')?.text }));
  if (items.length === 0 || items.length > 1000 || items.some((i) => i.key === undefined)) throw malformedXml();
  // A NUL in a key or version id is refused alike on both backends (PostgreSQL text cannot hold it).
  for (const i of items) if (i.key!.includes('\u0000') || i.versionId?.includes('\u0000')) throw invalidArgument('Object keys and version ids must not contain the NUL character.');
  await ctx.objects.requireBucket(bucket);
  let out = '';
  for (const item of items) {
    try {
      const r = await ctx.objects.deleteObject(bucket, item.key!, item.versionId || undefined);
      if (quiet) continue;
      out += wrap(
        'Deleted',
        el('Key', item.key) +
          el('VersionId', item.versionId || undefined) +
          (r.deleteMarker ? el('DeleteMarker', true) + el('DeleteMarkerVersionId', r.versionId) : ''),
      );
    } catch (err) {
      const e = toS3Error(err) as { members?: { s3?: { code: string } }; message?: string };
      const code = e.members?.s3?.code ?? 'InternalError';
      out += wrap('Error', el('Key', item.key) + el('VersionId', item.versionId || undefined) + el('Code', code) + el('Message', e.message ?? 'error'));
    }
  }
  return xmlResult(req, 'DeleteResult', out);
}
