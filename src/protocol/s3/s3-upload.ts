import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { PassThrough, type Transform } from 'node:stream';
import type { ObjectAttributes } from '../../objects/stored-object.js';
import { AwsChunkedDecoder, signingKey, type ChunkSigning } from './aws-chunked.js';
import { algorithmOfHeader, createChecksum, type Checksum } from './checksums.js';
import { invalidArgument, notImplemented, s3Error } from './s3-errors.js';

/**
 * Turns an upload request (PutObject, UploadPart) into the object bytes to store plus the checks
 * to run once they are on disk: aws-chunked framing stripped (§8.3), the x-amz-content-sha256
 * digest when it is one (the door does not hash streamed bodies), Content-MD5, and an
 * x-amz-checksum-* header or trailer.
 */
export interface PreparedUpload {
  body: AsyncIterable<Buffer>;
  attributes: ObjectAttributes;
  /** Runs after the bytes are written, before they become visible; throws an S3 error on a mismatch. */
  check: (written: { size: number; md5: Buffer }) => void;
  /** x-amz-checksum-* to echo in the response, known after `check`. */
  checksumHeaders(): Record<string, string>;
}

const HEX64 = /^[0-9a-f]{64}$/;
const STORED_HEADERS = ['content-disposition', 'content-language', 'cache-control', 'expires'];
const MAX_METADATA_BYTES = 2048;

function one(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** x-amz-meta-*, Content-Type and the other content headers S3 stores with an object. */
export function objectAttributesFrom(headers: IncomingHttpHeaders): ObjectAttributes {
  const metadata: Record<string, string> = {};
  let metaBytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const v = Array.isArray(value) ? value.join(',') : value;
    metadata[name.slice('x-amz-meta-'.length)] = v;
    metaBytes += Buffer.byteLength(name.slice('x-amz-meta-'.length)) + Buffer.byteLength(v);
  }
  if (metaBytes > MAX_METADATA_BYTES) {
    throw s3Error('MetadataTooLarge', 400, 'Your metadata headers exceed the maximum allowed metadata size.', { Size: String(metaBytes), MaxSizeAllowed: String(MAX_METADATA_BYTES) });
  }
  const stored: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const v = one(headers, name);
    if (v !== undefined) stored[name] = v;
  }
  const encoding = (one(headers, 'content-encoding') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s.toLowerCase() !== 'aws-chunked')
    .join(', ');
  if (encoding) stored['content-encoding'] = encoding;
  const contentType = one(headers, 'content-type');
  return { ...(contentType ? { contentType } : {}), metadata, headers: stored };
}

function chunkSigning(headers: IncomingHttpHeaders, lookupSecret: (accessKeyId: string) => string | undefined): ChunkSigning | undefined {
  const auth = one(headers, 'authorization');
  const m = auth ? /Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,.*Signature=([0-9a-f]{64})/.exec(auth) : null;
  const amzDate = one(headers, 'x-amz-date');
  if (!m || !amzDate) throw s3Error('SignatureDoesNotMatch', 403, 'Signed streaming uploads need an Authorization header and X-Amz-Date.');
  const [, accessKeyId, date, region, service, seedSignature] = m;
  const secret = lookupSecret(accessKeyId);
  if (secret === undefined) throw s3Error('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.');
  return { signingKey: signingKey(secret, date, region, service), amzDate, scope: `${date}/${region}/${service}/aws4_request`, seedSignature };
}

/**
 * @param lookupSecret undefined when authentication is off: chunk signatures are then not checked.
 */
export function prepareUpload(raw: IncomingMessage, lookupSecret?: (accessKeyId: string) => string | undefined): PreparedUpload {
  const headers = raw.headers;
  const attributes = objectAttributesFrom(headers);
  // A presigned URL declares the payload hash in its query (the door checked the signature over it).
  const contentSha = one(headers, 'x-amz-content-sha256') ?? presignedContentSha(raw.url);
  const chunkedEncoding = /(^|,)\s*aws-chunked\s*(,|$)/i.test(one(headers, 'content-encoding') ?? '');
  const streaming = contentSha?.startsWith('STREAMING-') ?? false;

  let body: AsyncIterable<Buffer>;
  let decoder: AwsChunkedDecoder | undefined;
  let trailer: string | undefined;
  if (streaming || chunkedEncoding) {
    const signedChunks = contentSha === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' || contentSha === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
    if (streaming && !signedChunks && contentSha !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') notImplementedPayload(contentSha!);
    const declared = one(headers, 'x-amz-decoded-content-length');
    const decodedLength = declared !== undefined && /^\d{1,16}$/.test(declared) ? Number(declared) : undefined;
    if (decodedLength === undefined) throw s3Error('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.');
    trailer = signedChunks && contentSha !== 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' ? undefined : one(headers, 'x-amz-trailer')?.trim().toLowerCase() || undefined;
    decoder = new AwsChunkedDecoder({
      signedChunks,
      signing: signedChunks && lookupSecret ? chunkSigning(headers, lookupSecret) : undefined,
      trailer,
      decodedLength,
    });
    body = detachedBody(raw, decoder);
  } else {
    body = detachedBody(raw, new PassThrough());
  }

  // Whole-object checksum: at most one x-amz-checksum-<alg> header, or a trailer named by x-amz-trailer.
  const checksumHeaders = Object.keys(headers).filter((h) => algorithmOfHeader(h) !== undefined);
  if (checksumHeaders.length > 1) throw s3Error('InvalidRequest', 400, 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const headerName = checksumHeaders[0];
  const trailerAlg = trailer ? algorithmOfHeader(trailer) : undefined;
  if (headerName && trailer) throw s3Error('InvalidRequest', 400, 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const sdkAlg = one(headers, 'x-amz-sdk-checksum-algorithm')?.toUpperCase();
  if (sdkAlg && !headerName && !trailer) {
    throw s3Error('InvalidRequest', 400, 'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.');
  }
  const headerChecksum: Checksum | undefined = headerName ? createChecksum(algorithmOfHeader(headerName)!) : undefined;
  const headerChecksumValue = headerName ? one(headers, headerName)! : undefined;

  const md5Header = one(headers, 'content-md5');
  let expectedMd5: Buffer | undefined;
  if (md5Header !== undefined) {
    expectedMd5 = Buffer.from(md5Header, 'base64');
    if (expectedMd5.length !== 16 || expectedMd5.toString('base64') !== md5Header.trim()) {
      throw s3Error('InvalidDigest', 400, 'The Content-MD5 you specified was not valid.', { 'Content-MD5': md5Header });
    }
  }

  const sha = !streaming && contentSha !== undefined && HEX64.test(contentSha) ? createHash('sha256') : undefined;
  const source = body;
  async function* tapped(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      const b = chunk as Buffer;
      sha?.update(b);
      headerChecksum?.update(b);
      yield b;
    }
  }
  body = sha || headerChecksum ? tapped() : body;

  let stored: { name: string; value: string } | undefined;
  return {
    body,
    attributes,
    check: ({ md5 }) => {
      if (sha && sha.digest('hex') !== contentSha) {
        throw s3Error('XAmzContentSHA256Mismatch', 400, "The provided 'x-amz-content-sha256' header does not match what was computed.", { ClientComputedContentSHA256: contentSha! });
      }
      if (expectedMd5 && !expectedMd5.equals(md5)) {
        throw s3Error('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.');
      }
      if (headerChecksum && headerName) {
        const actual = headerChecksum.digest();
        if (actual !== headerChecksumValue?.trim()) {
          throw s3Error('BadDigest', 400, `The ${headerChecksum.algorithm} you specified did not match the calculated checksum.`);
        }
        stored = { name: headerName, value: actual };
      } else if (trailer && trailerAlg && decoder) {
        stored = { name: trailer, value: decoder.parser.trailers[trailer] };
      }
      if (stored) attributes.checksum = `${algorithmOfHeader(stored.name)}:${stored.value}`;
    },
    checksumHeaders: () => (stored ? { [stored.name]: stored.value } : {}),
  };
}

/**
 * The request body through `through`. A failure of the consumer (a bad chunk signature, a size
 * limit) must not destroy the request, which would reset the connection before the S3 error is
 * written; the error response closes the connection instead. A client that goes away fails the body.
 */
function detachedBody(raw: IncomingMessage, through: Transform): Transform {
  raw.on('error', (err) => through.destroy(err));
  raw.on('close', () => {
    if (!raw.complete) through.destroy(new Error('the client closed the connection before the body was complete'));
  });
  // The body may fail before the store starts reading it (it checks the bucket first); the
  // failure then waits in the stream for the reader instead of being an unhandled 'error'.
  through.on('error', () => undefined);
  raw.pipe(through);
  return through;
}

function presignedContentSha(url: string | undefined): string | undefined {
  const q = url?.indexOf('?') ?? -1;
  if (q < 0) return undefined;
  return new URLSearchParams(url!.slice(q + 1)).get('X-Amz-Content-Sha256') ?? undefined;
}

function notImplementedPayload(value: string): never {
  throw notImplemented(`x-amz-content-sha256 ${value}`);
}

/** A `partNumber` query value as S3 validates it. */
export function parsePartNumber(text: string | null): number {
  const n = text !== null && /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 10000) throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', text ?? '');
  return n;
}
