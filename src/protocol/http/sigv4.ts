import { timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Clock } from '../../clock.js';
import { DomainError } from '../../domain/errors.js';
import { Sha256 } from '../../crypto/sha256.js';
import { s3Error } from '../s3/s3-errors.js';

/**
 * Verifies incoming SigV4 signatures by signing the received request again with
 * @smithy/signature-v4 (the signer the SDKs use) and comparing in constant time.
 * wire.md §8: raw path as received, only the headers named in SignedHeaders, uriEscapePath for
 * every service except s3.
 */

export interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

export interface SignedRequestParts {
  method: string;
  /** The raw request target (path and query) exactly as received. */
  rawUrl: string;
  headers: Record<string, string | string[] | undefined>;
  /** SHA-256 hex of the received body, or undefined when the body is not hashed (streamed S3 payloads). */
  bodySha256?: string;
}

const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;\-_.]+),\s*Signature=([0-9a-f]{64})$/;
const HEX64 = /^[0-9a-f]{64}$/;
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

const deny = (name: 'UnrecognizedClientException' | 'InvalidSignatureException' | 'MissingAuthenticationTokenException' | 'IncompleteSignatureException', message: string) =>
  new DomainError(name, message);

/** x-amz-content-sha256 values S3 knows besides a hex digest. */
const S3_PAYLOAD_MARKERS = new Set([
  'UNSIGNED-PAYLOAD',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER',
]);

/**
 * What a signature must cover besides what it names (issue 8): `host` always, and every `x-amz-*`
 * header the request carries, presigned URLs included. Otherwise a header added after signing
 * (x-amz-copy-source on a device's upload URL) would change what the request does.
 */
function checkCoverage(service: string, signed: readonly string[], headers: SignedRequestParts['headers']): void {
  const missing: string[] = [];
  if (!signed.includes('host')) missing.push('host');
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-amz-') && !signed.includes(name)) missing.push(name);
  }
  if (missing.length === 0) return;
  if (service === 's3') {
    throw s3Error('AccessDenied', 403, 'There were headers present in the request which were not signed', { HeadersNotSigned: missing.join(', ') });
  }
  if (missing[0] === 'host') throw deny('IncompleteSignatureException', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  throw deny('IncompleteSignatureException', `There were headers present in the request which were not signed: ${missing.join(', ')}`);
}

/**
 * The payload hash the signature is checked against. Every service but S3 signs the body itself:
 * the hash is the one computed here, and an x-amz-content-sha256 header must state exactly it
 * (UNSIGNED-PAYLOAD included is refused). S3 requires the header and also takes its markers:
 * UNSIGNED-PAYLOAD, or a STREAMING-* framing whose chunks the upload path checks. A hex digest of a
 * streamed body is checked by the upload once it has read the body.
 */
function payloadHash(service: string, declared: string | undefined, bodySha256: string | undefined, presigned: boolean): string {
  if (service !== 's3') {
    // Only S3 streams bodies; anything else has been read and hashed by the door.
    const computed = bodySha256 ?? EMPTY_SHA256;
    if (declared !== undefined && declared !== computed) {
      throw deny('InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match what was computed.');
    }
    return computed;
  }
  if (declared === undefined) {
    if (presigned) return 'UNSIGNED-PAYLOAD';
    throw s3Error('InvalidRequest', 400, 'Missing required header for this request: x-amz-content-sha256');
  }
  if (!HEX64.test(declared) && !S3_PAYLOAD_MARKERS.has(declared)) {
    throw s3Error('InvalidArgument', 400, 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.', {
      ArgumentName: 'x-amz-content-sha256',
      ArgumentValue: declared,
    });
  }
  if (bodySha256 !== undefined) {
    // A body the door read whole: a digest must match it, and no chunk framing is decoded here.
    if (HEX64.test(declared) && declared !== bodySha256) {
      throw s3Error('XAmzContentSHA256Mismatch', 400, "The provided 'x-amz-content-sha256' header does not match what was computed.", { ClientComputedContentSHA256: declared });
    }
    if (declared.startsWith('STREAMING-')) throw s3Error('InvalidRequest', 400, `This operation does not take a streamed payload (x-amz-content-sha256: ${declared}).`);
  }
  return declared;
}

/** Reads the credential scope without verifying anything: routing needs the service name first. */
export function readScope(authorization: string | undefined, query: URLSearchParams): CredentialScope | undefined {
  if (authorization) {
    const m = AUTH_RE.exec(authorization.trim());
    if (!m) {
      const loose = /Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\//.exec(authorization);
      return loose ? { accessKeyId: loose[1], date: loose[2], region: loose[3], service: loose[4] } : undefined;
    }
    return { accessKeyId: m[1], date: m[2], region: m[3], service: m[4] };
  }
  const credential = query.get('X-Amz-Credential');
  if (!credential) return undefined;
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  return { accessKeyId: parts[0], date: parts[1], region: parts[2], service: parts[3] };
}

function parseAmzDate(text: string | undefined): Date | undefined {
  if (!text || !/^\d{8}T\d{6}Z$/.test(text)) return undefined;
  const iso = `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}T${text.slice(9, 11)}:${text.slice(11, 13)}:${text.slice(13, 15)}Z`;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function header(headers: SignedRequestParts['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function splitUrl(rawUrl: string): { path: string; query: Record<string, string | string[]> } {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query: Record<string, string | string[]> = {};
  if (q >= 0) {
    for (const pair of rawUrl.slice(q + 1).split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      const k = decodeQueryComponent(eq < 0 ? pair : pair.slice(0, eq));
      const v = eq < 0 ? '' : decodeQueryComponent(pair.slice(eq + 1));
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
  }
  return { path, query };
}

function decodeQueryComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'));
  } catch {
    // Not validly encoded: sign it as received, so the comparison fails (403) instead of throwing (500).
    return s;
  }
}

function safeEqualHex(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

type SigningKeyFn = (credentials: unknown, region: string, shortDate: string, service?: string) => Promise<Uint8Array>;

/**
 * @smithy/signature-v4 HMACs the secret on every signature just to look up its own signing-key
 * cache (~7% of a GetPackageVersion). Each signer here serves one key pair, so the derived key is
 * kept per day/region/service on the instance. Should a future version rename that method, the
 * override is simply never called and signing stays correct, only slower.
 */
function cacheSigningKeys(signer: SignatureV4): void {
  const target = signer as unknown as { getSigningKey?: SigningKeyFn };
  const derive = target.getSigningKey;
  if (typeof derive !== 'function') return;
  const keys = new Map<string, Promise<Uint8Array>>();
  target.getSigningKey = (credentials, region, shortDate, service) => {
    const id = `${shortDate}/${region}/${service ?? ''}`;
    let key = keys.get(id);
    if (!key) {
      if (keys.size >= 16) keys.clear();
      key = derive.call(signer, credentials, region, shortDate, service);
      keys.set(id, key);
    }
    return key;
  };
}

export class SigV4Verifier {
  private readonly signers = new Map<string, SignatureV4>();

  constructor(
    private readonly lookupSecret: (accessKeyId: string) => string | undefined,
    /** Signatures are stamped with real time by real clients, so this is the wall clock unless a test says otherwise. */
    private readonly clock: Clock,
    /**
     * The server's regions: like a regional AWS endpoint, it refuses signatures scoped to another
     * one. `served` names them in the refusal.
     */
    private readonly regions?: { serves: (region: string) => boolean; served: string },
  ) {}

  private checkRegion(region: string): void {
    if (this.regions !== undefined && !this.regions.serves(region)) {
      throw deny('InvalidSignatureException', `Credential should be scoped to a valid region, not '${region}'. This endpoint serves ${this.regions.served}.`);
    }
  }

  private signer(accessKeyId: string, secret: string, service: string, region: string): SignatureV4 {
    const key = `${accessKeyId}\n${service}\n${region}`;
    let s = this.signers.get(key);
    if (!s) {
      s = new SignatureV4({
        credentials: { accessKeyId, secretAccessKey: secret },
        region,
        service,
        sha256: Sha256,
        uriEscapePath: service !== 's3',
        applyChecksum: false,
      });
      cacheSigningKeys(s);
      this.signers.set(key, s);
    }
    return s;
  }

  /** Verifies a header-signed request; throws an AWS-shaped 403 error when it does not hold. */
  async verifyHeaderSigned(req: SignedRequestParts): Promise<CredentialScope> {
    const authorization = header(req.headers, 'authorization');
    const m = authorization ? AUTH_RE.exec(authorization.trim()) : null;
    if (!m) throw deny('InvalidSignatureException', 'Authorization header requires \'Credential\', \'SignedHeaders\' and \'Signature\' parameters in AWS4-HMAC-SHA256 form.');
    const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = m;
    this.checkRegion(region);
    const secret = this.lookupSecret(accessKeyId);
    if (secret === undefined) throw deny('UnrecognizedClientException', 'The security token included in the request is invalid.');

    const amzDate = parseAmzDate(header(req.headers, 'x-amz-date'));
    if (!amzDate) throw deny('InvalidSignatureException', 'Missing or malformed X-Amz-Date header.');
    if (!header(req.headers, 'x-amz-date')!.startsWith(scopeDate)) {
      throw deny('InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${header(req.headers, 'x-amz-date')!.slice(0, 8)}'`);
    }
    const now = this.clock.now();
    if (Math.abs(now - amzDate.getTime()) > MAX_SKEW_MS) {
      throw deny('InvalidSignatureException', 'Signature expired: the request date is more than 15 minutes away from the server time.');
    }

    const signed = signedHeaderList.split(';');
    checkCoverage(service, signed, req.headers);
    const hash = payloadHash(service, header(req.headers, 'x-amz-content-sha256'), req.bodySha256, false);

    const headers: Record<string, string> = {};
    for (const name of signed) {
      const v = header(req.headers, name);
      if (v !== undefined) headers[name] = v;
    }
    // The signer takes the payload hash from this header. Without a signed x-amz-content-sha256
    // (boto3 and the AWS CLI on non-S3 services sign only host;x-amz-date[;content-type]) the
    // client hashed the body itself; marking it unsignable keeps it out of the canonical headers.
    const unsignableHeaders = new Set<string>();
    if (!headers['x-amz-content-sha256']) unsignableHeaders.add('x-amz-content-sha256');
    headers['x-amz-content-sha256'] = hash;
    const { path, query } = splitUrl(req.rawUrl);
    const signedRequest = await this.signer(accessKeyId, secret, service, region).sign(
      { method: req.method, protocol: 'http:', hostname: headers.host ?? '', path, query, headers },
      { signingDate: amzDate, signingRegion: region, signingService: service, signableHeaders: new Set(signed), unsignableHeaders },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signedRequest.headers.authorization))?.[1] ?? '';
    if (!safeEqualHex(expected, signature)) {
      throw deny('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
    }
    return { accessKeyId, date: scopeDate, region, service };
  }

  /**
   * Verifies the SigV4-presigned URL of an MQTT-over-WebSocket upgrade (device-security.md §6.3):
   * the Device SDK signs `GET /mqtt` with `connection;host` (or `host`), an empty body, **no
   * X-Amz-Expires**, and appends X-Amz-Security-Token after signing. presign() cannot check that
   * (it always adds X-Amz-Expires), so the canonical request is rebuilt with sign(): every query
   * pair but the signature and the token, the headers the URL names, the empty-body hash. Valid
   * within the 15-minute skew of X-Amz-Date, or until X-Amz-Expires when the URL has one.
   */
  async verifyWebSocketUrl(req: SignedRequestParts, signingName: string): Promise<CredentialScope> {
    const { path, query } = splitUrl(req.rawUrl);
    const one = (k: string) => (typeof query[k] === 'string' ? (query[k] as string) : undefined);
    if (one('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') throw deny('MissingAuthenticationTokenException', 'Missing or unsupported X-Amz-Algorithm: the URL must be SigV4-presigned.');
    const credential = one('X-Amz-Credential')?.split('/') ?? [];
    if (credential.length !== 5 || credential[4] !== 'aws4_request') throw deny('IncompleteSignatureException', 'Malformed X-Amz-Credential.');
    const [accessKeyId, scopeDate, region, service] = credential;
    if (service !== signingName) throw deny('InvalidSignatureException', `Credential should be scoped to the service '${signingName}', not '${service}'.`);
    this.checkRegion(region);
    const secret = this.lookupSecret(accessKeyId);
    if (secret === undefined) throw deny('UnrecognizedClientException', 'The security token included in the request is invalid.');
    const amzDate = parseAmzDate(one('X-Amz-Date'));
    const signature = one('X-Amz-Signature') ?? '';
    const signedHeaders = (one('X-Amz-SignedHeaders') ?? '').split(';').filter(Boolean);
    const expiresText = one('X-Amz-Expires');
    const expires = expiresText === undefined ? undefined : Number(expiresText);
    if (!amzDate || !HEX64.test(signature) || (expires !== undefined && (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_SECONDS))) {
      throw deny('IncompleteSignatureException', 'Malformed presigned URL.');
    }
    if (!one('X-Amz-Date')!.startsWith(scopeDate)) throw deny('InvalidSignatureException', 'Credential scope date does not match X-Amz-Date.');
    const now = this.clock.now();
    if (amzDate.getTime() - now > MAX_SKEW_MS) throw deny('InvalidSignatureException', 'Signature not yet current: X-Amz-Date is more than 15 minutes ahead of the server time.');
    if (expires !== undefined ? now > amzDate.getTime() + expires * 1000 : now - amzDate.getTime() > MAX_SKEW_MS) {
      throw deny('InvalidSignatureException', 'Signature expired: the presigned URL is no longer valid.');
    }
    if (!signedHeaders.includes('host')) throw deny('IncompleteSignatureException', "'Host' must be a signed header.");
    const rest: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(query)) if (k !== 'X-Amz-Signature' && k !== 'X-Amz-Security-Token') rest[k] = v;
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) headers[name] = header(req.headers, name) ?? '';
    headers['x-amz-content-sha256'] = EMPTY_SHA256;
    const signed = await this.signer(accessKeyId, secret, service, region).sign(
      { method: req.method, protocol: 'http:', hostname: headers.host ?? '', path, query: rest, headers },
      { signingDate: amzDate, signingRegion: region, signingService: service, signableHeaders: new Set(signedHeaders), unsignableHeaders: new Set(['x-amz-date', 'x-amz-content-sha256']) },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? '';
    if (!safeEqualHex(expected, signature)) {
      throw deny('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
    }
    return { accessKeyId, date: scopeDate, region, service };
  }

  /** Verifies a presigned URL (query-string authentication), wire.md §8.4. */
  async verifyPresigned(req: SignedRequestParts): Promise<CredentialScope> {
    const { path, query } = splitUrl(req.rawUrl);
    const one = (k: string) => (typeof query[k] === 'string' ? (query[k] as string) : undefined);
    if (one('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') throw deny('InvalidSignatureException', 'Unsupported X-Amz-Algorithm.');
    const credential = one('X-Amz-Credential')?.split('/') ?? [];
    if (credential.length !== 5) throw deny('InvalidSignatureException', 'Malformed X-Amz-Credential.');
    const [accessKeyId, scopeDate, region, service] = credential;
    this.checkRegion(region);
    const secret = this.lookupSecret(accessKeyId);
    if (secret === undefined) throw deny('UnrecognizedClientException', 'The security token included in the request is invalid.');
    const amzDate = parseAmzDate(one('X-Amz-Date'));
    const expires = Number(one('X-Amz-Expires'));
    const signature = one('X-Amz-Signature') ?? '';
    const signedHeaders = (one('X-Amz-SignedHeaders') ?? '').split(';').filter(Boolean);
    if (!amzDate || !Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_SECONDS || !/^[0-9a-f]{64}$/.test(signature)) {
      throw deny('InvalidSignatureException', 'Malformed presigned URL.');
    }
    if (!one('X-Amz-Date')!.startsWith(scopeDate)) throw deny('InvalidSignatureException', 'Credential scope date does not match X-Amz-Date.');
    const now = this.clock.now();
    if (now > amzDate.getTime() + expires * 1000) throw deny('InvalidSignatureException', 'Request has expired');
    if (amzDate.getTime() - now > MAX_SKEW_MS) throw deny('InvalidSignatureException', 'Request is not yet valid');

    checkCoverage(service, signedHeaders, req.headers);

    const rest: Record<string, string | string[]> = {};
    let declared: string | undefined;
    for (const [k, v] of Object.entries(query)) {
      // X-Amz-Content-Sha256 stays in the canonical query (it was a query parameter when signed)
      // and, as a header, drives the payload hash.
      if (k === 'X-Amz-Content-Sha256') {
        declared = String(v);
        rest[k] = v;
      } else if (!k.startsWith('X-Amz-')) rest[k] = v;
      else if (!['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'].includes(k)) rest[k] = v;
    }
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const v = header(req.headers, name);
      if (v !== undefined) headers[name] = v;
    }
    // A presigner that signed the header itself (rare) declared the hash there.
    if (declared === undefined && signedHeaders.includes('x-amz-content-sha256')) declared = header(req.headers, 'x-amz-content-sha256');
    headers['x-amz-content-sha256'] = payloadHash(service, declared, req.bodySha256, true);
    const presigned = await this.signer(accessKeyId, secret, service, region).presign(
      { method: req.method, protocol: 'http:', hostname: headers.host ?? '', path, query: rest, headers },
      { signingDate: amzDate, expiresIn: expires, signingRegion: region, signingService: service, signableHeaders: new Set(signedHeaders), unhoistableHeaders: new Set(Object.keys(headers)),
        unsignableHeaders: new Set(Object.keys(headers).filter((h) => !signedHeaders.includes(h))) },
    );
    const expected = String(presigned.query?.['X-Amz-Signature'] ?? '');
    if (!safeEqualHex(expected, signature)) {
      throw deny('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
    }
    return { accessKeyId, date: scopeDate, region, service };
  }
}
