import type { FsObjectStore } from '../../objects/fs-object-store.js';
import type { StoredObject } from '../../objects/stored-object.js';
import type { RouteRequest, RouteResult } from '../http/route.js';
import { invalidArgument } from './s3-errors.js';
import { encodeListed, isoDate, maxKeys, ownerXml, xmlResult } from './s3-http.js';
import { el, wrap } from './xml.js';

/** ListObjectsV2, ListObjects (V1) and ListObjectVersions. */
export interface ListHandlerContext {
  objects: FsObjectStore;
  accountId: string;
}

function contentsXml(o: StoredObject, enc: string | null, owner?: string): string {
  return wrap(
    'Contents',
    el('Key', encodeListed(o.key, enc)) + el('LastModified', isoDate(o.lastModified)) + el('ETag', o.etag) + el('Size', o.size) + (owner ?? '') + el('StorageClass', 'STANDARD'),
  );
}

function commonPrefixesXml(prefixes: string[], enc: string | null): string {
  return prefixes.map((p) => wrap('CommonPrefixes', el('Prefix', encodeListed(p, enc)))).join('');
}

function encodingType(req: RouteRequest): string | null {
  const enc = req.query.get('encoding-type');
  if (enc !== null && enc !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', enc);
  return enc;
}

/** Keys under a common prefix already returned on an earlier page are skipped on the next. */
function skipFor(marker: string | undefined, prefix: string, delimiter: string | undefined): string | undefined {
  return marker !== undefined && delimiter && marker.startsWith(prefix) && marker.endsWith(delimiter) && marker.length > prefix.length ? marker : undefined;
}

interface Continuation {
  after: string;
  skipPrefix?: string;
}

function encodeToken(c: Continuation): string {
  return Buffer.from(JSON.stringify(c.skipPrefix !== undefined ? [c.after, c.skipPrefix] : [c.after])).toString('base64url');
}

function decodeToken(token: string): Continuation {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    const ok = (x: unknown) => typeof x === 'string' && !x.includes('\u0000');
    if (Array.isArray(v) && ok(v[0]) && (v.length === 1 || (v.length === 2 && ok(v[1])))) {
      return { after: v[0], ...(v.length === 2 ? { skipPrefix: v[1] as string } : {}) };
    }
  } catch {
    /* falls through */
  }
  throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
}

export async function listObjectsV2(ctx: ListHandlerContext, req: RouteRequest, bucket: string): Promise<RouteResult> {
  const q = req.query;
  const enc = encodingType(req);
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const limit = maxKeys(q);
  const token = q.get('continuation-token');
  const startAfter = q.get('start-after') ?? undefined;
  const from: Continuation | undefined = token !== null ? decodeToken(token) : startAfter !== undefined ? { after: startAfter } : undefined;
  const page = await ctx.objects.listObjects(bucket, { prefix, delimiter, after: from?.after, skipPrefix: from?.skipPrefix, maxKeys: limit });
  const owner = q.get('fetch-owner') === 'true' ? ownerXml(ctx.accountId) : undefined;
  const inner =
    el('Name', bucket) +
    el('Prefix', encodeListed(prefix, enc)) +
    el('MaxKeys', limit) +
    el('KeyCount', page.objects.length + page.commonPrefixes.length) +
    el('Delimiter', delimiter !== undefined ? encodeListed(delimiter, enc) : undefined) +
    el('IsTruncated', page.truncated) +
    el('ContinuationToken', token ?? undefined) +
    el('NextContinuationToken', page.next ? encodeToken(page.next) : undefined) +
    el('StartAfter', startAfter !== undefined ? encodeListed(startAfter, enc) : undefined) +
    el('EncodingType', enc ?? undefined) +
    page.objects.map((o) => contentsXml(o, enc, owner)).join('') +
    commonPrefixesXml(page.commonPrefixes, enc);
  return xmlResult(req, 'ListBucketResult', inner);
}

export async function listObjectsV1(ctx: ListHandlerContext, req: RouteRequest, bucket: string): Promise<RouteResult> {
  const q = req.query;
  const enc = encodingType(req);
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const limit = maxKeys(q);
  const marker = q.get('marker') || undefined;
  const page = await ctx.objects.listObjects(bucket, { prefix, delimiter, after: marker, skipPrefix: skipFor(marker, prefix, delimiter), maxKeys: limit });
  const inner =
    el('Name', bucket) +
    el('Prefix', encodeListed(prefix, enc)) +
    el('Marker', encodeListed(marker ?? '', enc)) +
    el('NextMarker', page.truncated && page.lastEntry !== undefined ? encodeListed(page.lastEntry, enc) : undefined) +
    el('MaxKeys', limit) +
    el('Delimiter', delimiter !== undefined ? encodeListed(delimiter, enc) : undefined) +
    el('IsTruncated', page.truncated) +
    el('EncodingType', enc ?? undefined) +
    page.objects.map((o) => contentsXml(o, enc, ownerXml(ctx.accountId))).join('') +
    commonPrefixesXml(page.commonPrefixes, enc);
  return xmlResult(req, 'ListBucketResult', inner);
}

export async function listObjectVersions(ctx: ListHandlerContext, req: RouteRequest, bucket: string): Promise<RouteResult> {
  const q = req.query;
  const enc = encodingType(req);
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const limit = maxKeys(q);
  const keyMarker = q.get('key-marker') || undefined;
  const versionIdMarker = q.get('version-id-marker') || undefined;
  if (versionIdMarker !== undefined && keyMarker === undefined) {
    throw invalidArgument('A version-id marker cannot be specified without a key marker.', 'version-id-marker', versionIdMarker);
  }
  const page = await ctx.objects.listVersions(bucket, {
    prefix,
    delimiter,
    keyMarker,
    versionIdMarker,
    skipPrefix: versionIdMarker === undefined ? skipFor(keyMarker, prefix, delimiter) : undefined,
    maxKeys: limit,
  });
  const owner = ownerXml(ctx.accountId);
  const entries = page.versions
    .map((v) =>
      v.deleteMarker
        ? wrap('DeleteMarker', el('Key', encodeListed(v.key, enc)) + el('VersionId', v.versionId) + el('IsLatest', v.isLatest) + el('LastModified', isoDate(v.lastModified)) + owner)
        : wrap(
            'Version',
            el('Key', encodeListed(v.key, enc)) + el('VersionId', v.versionId) + el('IsLatest', v.isLatest) + el('LastModified', isoDate(v.lastModified)) + el('ETag', v.etag) + el('Size', v.size) + el('StorageClass', 'STANDARD') + owner,
          ),
    )
    .join('');
  const inner =
    el('Name', bucket) +
    el('Prefix', encodeListed(prefix, enc)) +
    el('KeyMarker', encodeListed(keyMarker ?? '', enc)) +
    el('VersionIdMarker', versionIdMarker ?? '') +
    el('NextKeyMarker', page.nextKeyMarker !== undefined ? encodeListed(page.nextKeyMarker, enc) : undefined) +
    el('NextVersionIdMarker', page.nextVersionIdMarker) +
    el('MaxKeys', limit) +
    el('Delimiter', delimiter !== undefined ? encodeListed(delimiter, enc) : undefined) +
    el('IsTruncated', page.truncated) +
    el('EncodingType', enc ?? undefined) +
    entries +
    commonPrefixesXml(page.commonPrefixes, enc);
  return xmlResult(req, 'ListVersionsResult', inner);
}
