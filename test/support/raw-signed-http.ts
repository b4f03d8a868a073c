import http, { type IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { REGION, TEST_CREDENTIALS } from './server.js';
import { Sha256 } from '../../src/crypto/sha256.js';
export { Sha256 };

/**
 * Raw HTTP requests to the test server, signed with SigV4 the way the AWS SDKs sign them
 * (wire.md §8: @smithy/signature-v4, path double-escaped for every service but s3). Tests use
 * it where the request itself is the point: malformed bodies and paths, tampered signatures,
 * missing headers — things the SDK clients refuse to send.
 */

type Data = string | ArrayBuffer | ArrayBufferView;

const toBuffer = (data: Data): Buffer | string =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json?: Record<string, unknown>;
}

export interface RawRequest {
  method: string;
  /** The path exactly as it goes on the wire (percent-encoding included). */
  path: string;
  query?: Record<string, string>;
  body?: string | Buffer;
  /** Extra headers; `content-type` defaults to application/json when there is a body (null leaves it out). */
  headers?: Record<string, string | null>;
}

export interface SigningOptions {
  credentials?: { accessKeyId: string; secretAccessKey: string };
  service?: string;
  region?: string;
  signingDate?: Date;
  /** Sign this body instead of the one sent (a tampered request). */
  signedBody?: string | Buffer;
  /** Sign this path (and query) instead of the ones sent (a tampered request). */
  signedPath?: string;
  signedQuery?: Record<string, string>;
  /** Send x-amz-content-sha256 like the JS SDK (true, default) or leave it out like boto3 (false). */
  contentSha256Header?: boolean;
  /** Headers sent but left out of the signature (e.g. `host`), as an attacker's signer would. */
  unsigned?: string[];
  /** Headers added (or replaced) after signing: what a man in the middle or a device adds to a signed request. */
  addAfterSigning?: Record<string, string>;
}

function buildHeaders(url: URL, req: RawRequest): Record<string, string> {
  const headers: Record<string, string> = { host: url.host };
  if (req.body !== undefined) {
    headers['content-length'] = String(Buffer.byteLength(req.body));
    headers['content-type'] = 'application/json';
  }
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (v === null) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  return headers;
}

function queryString(query: Record<string, string> | undefined): string {
  const entries = Object.entries(query ?? {});
  if (entries.length === 0) return '';
  return '?' + entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** Sends a request exactly as given, without any signature. */
export function sendRaw(baseUrl: string, req: RawRequest, headersOverride?: Record<string, string>): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const headers = headersOverride ?? buildHeaders(url, req);
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: url.hostname, port: url.port, method: req.method, path: req.path + queryString(req.query), headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    // A server that answers early (413) may close before the whole body is written; the answer still counts.
    r.on('error', reject);
    if (req.body !== undefined) r.end(req.body);
    else r.end();
  });
}

/** Signs the request with SigV4 (service `iot` by default) and sends it. */
export async function sendSigned(baseUrl: string, req: RawRequest, opts: SigningOptions = {}): Promise<RawResponse> {
  return sendRaw(baseUrl, req, await signHeaders(baseUrl, req, opts));
}

/** The headers a signed request carries (authorization included), for tests that write to sockets themselves. */
export async function signHeaders(baseUrl: string, req: RawRequest, opts: SigningOptions = {}): Promise<Record<string, string>> {
  const url = new URL(baseUrl);
  const service = opts.service ?? 'iot';
  const region = opts.region ?? REGION;
  const signer = new SignatureV4({
    credentials: opts.credentials ?? TEST_CREDENTIALS,
    region,
    service,
    sha256: Sha256,
    uriEscapePath: service !== 's3',
    applyChecksum: opts.contentSha256Header ?? true,
  });
  const headers = buildHeaders(url, req);
  const signedBody = opts.signedBody ?? req.body;
  const signed = await signer.sign(
    { method: req.method, protocol: 'http:', hostname: url.host, path: opts.signedPath ?? req.path, query: opts.signedQuery ?? req.query ?? {}, headers, body: signedBody },
    { signingDate: opts.signingDate ?? new Date(), ...(opts.unsigned ? { unsignableHeaders: new Set(opts.unsigned) } : {}) },
  );
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) out[k] = String(v);
  for (const [k, v] of Object.entries(opts.addAfterSigning ?? {})) out[k.toLowerCase()] = v;
  return out;
}

/**
 * A presigned URL (query-string SigV4) for any service, made by @smithy/signature-v4 as the SDK
 * presigners make them; `body` is hashed into it when given (services other than s3 sign bodies).
 */
export async function presignUrl(baseUrl: string, req: { method: string; path: string; query?: Record<string, string>; body?: string }, opts: { service?: string; expiresIn?: number; signingDate?: Date } = {}): Promise<string> {
  const url = new URL(baseUrl);
  const service = opts.service ?? 'iot';
  const signer = new SignatureV4({ credentials: TEST_CREDENTIALS, region: REGION, service, sha256: Sha256, uriEscapePath: service !== 's3' });
  const presigned = await signer.presign(
    { method: req.method, protocol: 'http:', hostname: url.host, path: req.path, query: req.query ?? {}, headers: { host: url.host }, ...(req.body !== undefined ? { body: req.body } : {}) },
    { expiresIn: opts.expiresIn ?? 300, ...(opts.signingDate ? { signingDate: opts.signingDate } : {}) },
  );
  const qs = Object.entries(presigned.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(String(x))}`))
    .join('&');
  return `${baseUrl}${req.path}?${qs}`;
}
