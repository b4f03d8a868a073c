import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { DomainError, type AwsErrorName } from '../../domain/errors.js';
import { ObjectStoreError } from '../../objects/errors.js';
import { AwsChunkedError } from './aws-chunked.js';
import { el } from './xml.js';
import { canStartResponse, writeHead } from '../http/response.js';

/**
 * S3 errors are XML (`<Error><Code>NoSuchKey</Code><Message>…</Message><RequestId>…</RequestId></Error>`)
 * with S3's own codes. They travel through the door as DomainErrors whose `members.s3` carries
 * the S3 code, status, extra elements and headers; the door's own errors (signature, routing,
 * body size) arrive with restJson1 names and are mapped here.
 */

interface S3ErrorInfo {
  code: string;
  status: number;
  elements?: Record<string, string>;
  headers?: Record<string, string>;
}

/** The restJson1 name closest to an S3 status, so logs and any JSON fallback still make sense. */
function nearestName(status: number): AwsErrorName {
  if (status === 404) return 'ResourceNotFoundException';
  if (status === 409) return 'ConflictException';
  if (status === 403) return 'InvalidSignatureException';
  if (status === 405) return 'MethodNotAllowedException';
  if (status >= 500) return 'InternalFailureException';
  return 'InvalidRequestException';
}

export function s3Error(code: string, status: number, message: string, elements?: Record<string, string>, headers?: Record<string, string>): DomainError {
  const info: S3ErrorInfo = { code, status, ...(elements ? { elements } : {}), ...(headers ? { headers } : {}) };
  return new DomainError(nearestName(status), message, { s3: info });
}

/** Object-store and aws-chunked failures become S3 errors; anything else is rethrown as is. */
export function toS3Error(err: unknown): unknown {
  if (err instanceof ObjectStoreError) return s3Error(err.code, err.status, err.message, err.detail.elements, err.detail.headers);
  if (err instanceof AwsChunkedError) return s3Error(err.code, err.code === 'SignatureDoesNotMatch' ? 403 : 400, err.message);
  return err;
}

export const notImplemented = (what: string) => s3Error('NotImplemented', 501, `A header or query you provided implies functionality that is not implemented: ${what}.`);
export const invalidArgument = (message: string, name?: string, value?: string) =>
  s3Error('InvalidArgument', 400, message, name !== undefined ? { ArgumentName: name, ArgumentValue: value ?? '' } : undefined);

function fromDoorError(name: AwsErrorName, message: string): S3ErrorInfo {
  switch (name) {
    case 'InvalidSignatureException':
      if (message === 'Request has expired') return { code: 'AccessDenied', status: 403 };
      if (message.startsWith('Signature expired')) return { code: 'RequestTimeTooSkewed', status: 403 };
      if (message.startsWith('Malformed') || message.startsWith('Unsupported X-Amz-Algorithm')) return { code: 'AuthorizationQueryParametersError', status: 400 };
      if (message.startsWith('Authorization header requires') || message.startsWith('Missing or malformed X-Amz-Date')) return { code: 'AuthorizationHeaderMalformed', status: 400 };
      if (message.includes('x-amz-content-sha256')) return { code: 'XAmzContentSHA256Mismatch', status: 400 };
      return { code: 'SignatureDoesNotMatch', status: 403 };
    case 'IncompleteSignatureException':
      return { code: 'AccessDenied', status: 403 };
    case 'UnrecognizedClientException':
      return { code: 'InvalidAccessKeyId', status: 403 };
    case 'MissingAuthenticationTokenException':
      return { code: 'AccessDenied', status: 403 };
    case 'RequestEntityTooLargeException':
      return { code: 'MaxMessageLengthExceeded', status: 400 };
    case 'UnknownOperationException':
    case 'MethodNotAllowedException':
      return { code: 'MethodNotAllowed', status: 405 };
    case 'InternalFailureException':
    case 'InternalServerException':
      return { code: 'InternalError', status: 500 };
    default:
      return { code: 'InvalidRequest', status: 400 };
  }
}

const DOOR_MESSAGES: Record<string, string> = {
  SignatureDoesNotMatch: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  InvalidAccessKeyId: 'The AWS Access Key Id you provided does not exist in our records.',
  RequestTimeTooSkewed: 'The difference between the request time and the current time is too large.',
};

/** The ServiceApi `writeError` hook of the S3 door. */
export function writeS3Error(res: ServerResponse, requestId: string, name: AwsErrorName, message: string, members: Record<string, unknown>): void {
  if (!canStartResponse(res)) {
    res.destroy();
    return;
  }
  const info = (members.s3 as S3ErrorInfo | undefined) ?? fromDoorError(name, message);
  const text = members.s3 ? message : (DOOR_MESSAGES[info.code] ?? message);
  const hostId = createHash('sha256').update(requestId).digest('base64');
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' +
    el('Code', info.code) +
    el('Message', text) +
    Object.entries(info.elements ?? {}).map(([k, v]) => el(k, v)).join('') +
    el('RequestId', requestId) +
    el('HostId', hostId) +
    '</Error>';
  const req = res.req;
  const isHead = req?.method === 'HEAD';
  const headers: Record<string, string | number> = {
    'content-type': 'application/xml',
    'x-amz-request-id': requestId,
    'x-amz-id-2': hostId,
    ...(info.headers ?? {}),
    'content-length': isHead ? 0 : Buffer.byteLength(body),
  };
  // An upload refused before its body was read: do not read the rest of it.
  if (req && !req.complete) headers.connection = 'close';
  writeHead(res, info.status, headers);
  res.end(isHead ? undefined : body);
}

