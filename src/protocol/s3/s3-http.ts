import { createHash } from 'node:crypto';
import type { RouteRequest, RouteResult } from '../http/route.js';
import { s3Error } from './s3-errors.js';
import { xmlDocument } from './xml.js';

/** Bucket and key from the raw path (`/{bucket}/{key}`, path-style), percent-decoded once. */
export function parseS3Path(rawUrl: string): { bucket?: string; key?: string } {
  const q = rawUrl.indexOf('?');
  const path = (q < 0 ? rawUrl : rawUrl.slice(0, q)).replace(/^\//, '');
  if (path === '') return {};
  const slash = path.indexOf('/');
  try {
    const bucket = decodeURIComponent(slash < 0 ? path : path.slice(0, slash));
    const key = slash < 0 ? undefined : decodeURIComponent(path.slice(slash + 1));
    return { bucket, ...(key ? { key } : {}) };
  } catch {
    throw s3Error('InvalidURI', 400, "Couldn't parse the specified URI.");
  }
}

export function s3Headers(req: RouteRequest, extra: Record<string, string | number> = {}): Record<string, string | number> {
  return {
    'x-amz-request-id': req.requestId,
    'x-amz-id-2': createHash('sha256').update(req.requestId).digest('base64'),
    ...extra,
  };
}

export function xmlResult(req: RouteRequest, root: string, inner: string, extra: Record<string, string | number> = {}): RouteResult {
  return { status: 200, rawBody: xmlDocument(root, inner), headers: s3Headers(req, { 'content-type': 'application/xml', ...extra }) };
}

export function emptyResult(req: RouteRequest, status: number, extra: Record<string, string | number> = {}): RouteResult {
  return { status, rawBody: '', headers: s3Headers(req, { 'content-type': 'application/xml', ...extra }) };
}

/** S3 timestamps in XML: ISO 8601 with milliseconds. */
export const isoDate = (d: Date) => d.toISOString();

/** A query flag such as `?versioning` (present, possibly with an empty value). */
export const has = (query: URLSearchParams, name: string) => query.has(name);

/** max-keys: 0..1000 (larger values are capped, as S3 does); anything else is an InvalidArgument. */
export function maxKeys(query: URLSearchParams): number {
  const text = query.get('max-keys');
  if (text === null || text === '') return 1000;
  if (!/^\d+$/.test(text)) throw s3Error('InvalidArgument', 400, 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: text });
  return Math.min(Number(text), 1000);
}

/** S3's "url" encoding-type for keys in listings (botocore asks for it and decodes). */
export function encodeListed(value: string, encodingType: string | null): string {
  if (encodingType !== 'url') return value;
  return encodeURIComponent(value).replace(/%2F/g, '/').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function ownerXml(accountId: string): string {
  const id = createHash('sha256').update(`fleetjobs:${accountId}`).digest('hex');
  return `<Owner><ID>${id}</ID><DisplayName>fleetjobs</DisplayName></Owner>`;
}
