import type { IncomingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream';
import type { FsObjectStore } from '../../objects/fs-object-store.js';
import { ObjectStoreError } from '../../objects/errors.js';
import type { StoredObject } from '../../objects/stored-object.js';
import type { RouteRequest, RouteResult } from '../http/route.js';
import { invalidArgument, notImplemented, s3Error } from './s3-errors.js';
import { emptyResult, isoDate, s3Headers, xmlResult } from './s3-http.js';
import { checkVersionId, hasNul, printable } from './s3-input.js';
import { objectAttributesFrom, prepareUpload } from './s3-upload.js';
import { el } from './xml.js';
import { writeHead } from '../http/response.js';

/** PutObject, CopyObject, GetObject, HeadObject and DeleteObject of the embedded S3 subset. */
export interface ObjectHandlerContext {
  objects: FsObjectStore;
  lookupSecret?: (accessKeyId: string) => string | undefined;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function versionIdParam(query: URLSearchParams): string | undefined {
  const v = query.get('versionId');
  if (v === null) return undefined;
  if (v === '') throw invalidArgument('Version id cannot be the empty string', 'versionId', '');
  return v;
}

/** S3 reports version ids in buckets that have (or had) versioning, the 'null' one included. */
const versionHeader = (o: { versionId?: string; versioned?: boolean }): Record<string, string> =>
  o.versionId !== undefined && (o.versionId !== 'null' || o.versioned) ? { 'x-amz-version-id': o.versionId } : {};

export async function putObject(ctx: ObjectHandlerContext, req: RouteRequest, bucket: string, key: string): Promise<RouteResult> {
  if (req.headers['x-amz-copy-source'] !== undefined) return copyObject(ctx, req, bucket, key);
  const upload = prepareUpload(req.raw, ctx.lookupSecret);
  const stored = await ctx.objects.putObject(bucket, key, upload.body, upload.attributes, upload.check);
  return emptyResult(req, 200, { etag: stored.etag, ...versionHeader(stored), ...upload.checksumHeaders() });
}

async function copyObject(ctx: ObjectHandlerContext, req: RouteRequest, bucket: string, key: string): Promise<RouteResult> {
  const source = header(req.headers, 'x-amz-copy-source')!;
  const m = /^\/?([^/?]+)\/([^?]+)(?:\?versionId=(.+))?$/.exec(source);
  if (!m) throw invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', 'x-amz-copy-source', source);
  let srcBucket: string;
  let srcKey: string;
  let srcVersion: string | undefined;
  try {
    [srcBucket, srcKey, srcVersion] = [decodeURIComponent(m[1]), decodeURIComponent(m[2]), m[3] !== undefined ? decodeURIComponent(m[3]) : undefined];
  } catch {
    throw invalidArgument('Invalid copy source encoding', 'x-amz-copy-source', printable(source));
  }
  if (hasNul(srcBucket) || hasNul(srcKey)) throw invalidArgument('Copy Source must not contain the NUL character.', 'x-amz-copy-source', printable(source));
  if (srcVersion !== undefined) checkVersionId(srcVersion, 'x-amz-copy-source');
  const directive = (header(req.headers, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') throw invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
  if (srcBucket === bucket && srcKey === key && srcVersion === undefined && directive === 'COPY') {
    throw s3Error('InvalidRequest', 400, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
  }
  const { object: src, body } = await ctx.objects.openObject(srcBucket, srcKey, srcVersion);
  const attributes = directive === 'REPLACE' ? objectAttributesFrom(req.headers) : { ...(src.contentType ? { contentType: src.contentType } : {}), metadata: src.metadata, headers: src.headers, ...(src.checksum ? { checksum: src.checksum } : {}) };
  const stored = await ctx.objects.putObject(bucket, key, body, attributes);
  return xmlResult(req, 'CopyObjectResult', el('ETag', stored.etag) + el('LastModified', isoDate(stored.lastModified)), {
    ...versionHeader(stored),
    ...(src.versionId !== 'null' ? { 'x-amz-copy-source-version-id': src.versionId } : {}),
  });
}

/** Inclusive byte range from a Range header; undefined means the whole object (S3 ignores what it cannot parse). */
export function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!value) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const unsatisfiable = () =>
    new ObjectStoreError('InvalidRange', 'The requested range is not satisfiable', {
      elements: { RangeRequested: value, ActualObjectSize: String(size) },
      headers: { 'content-range': `bytes */${size}` },
    });
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) throw unsatisfiable();
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}

const OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

function objectHeaders(req: RouteRequest, o: StoredObject): Record<string, string | number> {
  const h: Record<string, string | number> = s3Headers(req, {
    'content-type': o.contentType ?? 'binary/octet-stream',
    etag: o.etag,
    'last-modified': o.lastModified.toUTCString(),
    'accept-ranges': 'bytes',
    ...versionHeader(o),
    ...o.headers,
  });
  for (const [k, v] of Object.entries(o.metadata)) h[`x-amz-meta-${k}`] = v;
  for (const [param, name] of Object.entries(OVERRIDES)) {
    const v = req.query.get(param);
    if (v !== null) h[name] = v;
  }
  if (o.checksum && header(req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED' && !req.headers.range) {
    const [alg, value] = [o.checksum.slice(0, o.checksum.indexOf(':')), o.checksum.slice(o.checksum.indexOf(':') + 1)];
    h[`x-amz-checksum-${alg.toLowerCase()}`] = value;
    h['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  return h;
}

/** If-Match / If-None-Match / If-(Un)Modified-Since: a 304 or 412 answer, or undefined to go on. */
function preconditions(req: RouteRequest, o: StoredObject): RouteResult | undefined {
  const etagIn = (list: string) => list.split(',').some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '') === o.etag || `"${t.trim()}"` === o.etag);
  const seconds = Math.floor(o.lastModified.getTime() / 1000) * 1000;
  const ifMatch = header(req.headers, 'if-match');
  const ifNoneMatch = header(req.headers, 'if-none-match');
  const ifUnmodified = Date.parse(header(req.headers, 'if-unmodified-since') ?? '');
  const ifModified = Date.parse(header(req.headers, 'if-modified-since') ?? '');
  const failed = (condition: string) => s3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', { Condition: condition });
  if (ifMatch !== undefined && !etagIn(ifMatch)) throw failed('If-Match');
  if (ifMatch === undefined && !Number.isNaN(ifUnmodified) && seconds > ifUnmodified) throw failed('If-Unmodified-Since');
  const notModified = (): RouteResult => ({ status: 304, rawBody: '', headers: s3Headers(req, { etag: o.etag, 'last-modified': o.lastModified.toUTCString() }) });
  if (ifNoneMatch !== undefined && etagIn(ifNoneMatch)) return notModified();
  if (ifNoneMatch === undefined && !Number.isNaN(ifModified) && seconds <= ifModified) return notModified();
  return undefined;
}

export async function getObject(ctx: ObjectHandlerContext, req: RouteRequest, bucket: string, key: string, head: boolean): Promise<RouteResult> {
  if (req.query.has('partNumber')) throw notImplemented('GetObject by partNumber');
  const versionId = versionIdParam(req.query);
  const rangeHeader = header(req.headers, 'range');
  if (head) {
    const object = await ctx.objects.getObject(bucket, key, versionId);
    const early = preconditions(req, object);
    if (early) return early;
    const range = parseRange(rangeHeader, object.size);
    const headers = objectHeaders(req, object);
    headers['content-length'] = range ? range.end - range.start + 1 : object.size;
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${object.size}`;
    writeHead(req.response, range ? 206 : 200, headers);
    req.response.end();
    return { handled: true };
  }
  let opened: Awaited<ReturnType<FsObjectStore['openObject']>>;
  try {
    // Preconditions and the range are decided on the version actually opened.
    opened = await ctx.objects.openObject(bucket, key, versionId, (o) => {
      const early = preconditions(req, o);
      if (early) throw new EarlyAnswer(early);
      return parseRange(rangeHeader, o.size);
    });
  } catch (err) {
    if (err instanceof EarlyAnswer) return err.result;
    throw err;
  }
  const { object, body, range } = opened;
  const headers = objectHeaders(req, object);
  headers['content-length'] = range ? range.end - range.start + 1 : object.size;
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${object.size}`;
  const res = req.response;
  try {
    writeHead(res, range ? 206 : 200, headers);
  } catch (err) {
    // The opened file must not wait for the garbage collector to be closed.
    body.destroy();
    throw err;
  }
  pipeline(body, res, (err) => {
    if (err) res.destroy();
  });
  return { handled: true };
}

class EarlyAnswer extends Error {
  constructor(readonly result: RouteResult) {
    super('early answer');
  }
}

export async function deleteObject(ctx: ObjectHandlerContext, req: RouteRequest, bucket: string, key: string): Promise<RouteResult> {
  const result = await ctx.objects.deleteObject(bucket, key, versionIdParam(req.query));
  return emptyResult(req, 204, { ...(result.versionId !== undefined ? { 'x-amz-version-id': result.versionId } : {}), ...(result.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}) });
}
