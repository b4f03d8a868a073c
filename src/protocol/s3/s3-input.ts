import type { RouteRequest } from '../http/route.js';
import { invalidArgument, s3Error } from './s3-errors.js';
import { parseS3Path } from './s3-http.js';

/**
 * Checks every value of an S3 request that reaches a response header or the database before any
 * handler runs (issue 8): a NUL in a name (PostgreSQL text cannot hold it, so the two backends
 * would answer differently), a version id that could not be one of ours, and response-* overrides
 * that are no valid header value. Each is S3's 400 XML error, never a 500 or a broken answer.
 */

/** What node (and HTTP) accepts in a header value: tab, visible ASCII, space and Latin-1. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Version ids are ours (32 URL-safe characters) or 'null'; anything printable passes on to a NoSuchVersion. */
const VERSION_ID = /^[\x21-\x7e]{1,1024}$/;

export const hasNul = (s: string): boolean => s.includes('\u0000');

export function checkVersionId(value: string, argumentName = 'versionId'): void {
  if (!VERSION_ID.test(value)) throw invalidArgument('Invalid version id specified', argumentName, printable(value));
}

/** The value as it may be echoed inside an XML error (control characters escaped). */
export function printable(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function checkS3Input(req: RouteRequest): void {
  const { bucket, key } = parseS3Path(req.raw.url ?? '/');
  if (bucket !== undefined && hasNul(bucket)) throw s3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: printable(bucket) });
  if (key !== undefined && hasNul(key)) throw invalidArgument('Object key must not contain the NUL character.', 'key', printable(key));
  for (const [name, value] of req.query) {
    if (hasNul(name) || hasNul(value)) throw invalidArgument(`The ${printable(name)} parameter must not contain the NUL character.`, printable(name), printable(value));
    if (name.startsWith('response-') && !HEADER_VALUE.test(value)) {
      throw invalidArgument(`The ${name} parameter is not a valid HTTP header value.`, name, printable(value));
    }
  }
  const versionId = req.query.get('versionId');
  if (versionId !== null && versionId !== '') checkVersionId(versionId);
}
