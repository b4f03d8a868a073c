import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../crypto/sha256.js';

/**
 * How every client command of fleetjobs (forecast, simulate, …) finds its server: `--endpoint`,
 * else AWS_ENDPOINT_URL, else http://127.0.0.1:8080; credentials from AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, else the default data dir's credentials file; the region from AWS_REGION
 * or AWS_DEFAULT_REGION, else us-east-1.
 */
export interface ClientTarget {
  endpoint: URL;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The CA (PEM) an https:// endpoint's certificate is checked against, instead of the system's (`--ca`). */
  ca?: string;
}

export class ClientError extends Error {}

export function resolveClientTarget(flags: { endpoint?: string }, env: NodeJS.ProcessEnv = process.env): ClientTarget {
  const text = flags.endpoint ?? env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:8080';
  let endpoint: URL;
  try {
    endpoint = new URL(text);
  } catch {
    throw new ClientError(`invalid endpoint: ${text}`);
  }
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return { endpoint, region, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } };
  }
  const file = join(env.FLEETJOBS_DATA_DIR ?? './.fleetjobs', 'credentials.json');
  if (!existsSync(file)) throw new ClientError(`no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run from the directory whose ${file} the server wrote`);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { accessKeyId?: string; secretAccessKey?: string };
  if (!parsed.accessKeyId || !parsed.secretAccessKey) throw new ClientError(`${file} holds no key pair`);
  return { endpoint, region, credentials: { accessKeyId: parsed.accessKeyId, secretAccessKey: parsed.secretAccessKey } };
}

/**
 * A SigV4-signed JSON request (signing name `iot` unless given), as an AWS SDK sends it: the
 * path's query is signed as the query, and `extra` headers (AttachThingPrincipal's
 * x-amzn-principal) are signed with the rest.
 */
export async function signedJson(target: ClientTarget, method: string, path: string, body?: unknown, service = 'iot', extra: Record<string, string> = {}): Promise<{ status: number; json: unknown; text: string }> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const signer = new SignatureV4({ credentials: target.credentials, region: target.region, service, sha256: Sha256 });
  const headers: Record<string, string> = { ...extra, host: target.endpoint.host };
  if (payload) headers['content-type'] = 'application/json';
  const url = new URL(path, target.endpoint);
  const query = Object.fromEntries(url.searchParams);
  const signed = await signer.sign({ method, protocol: target.endpoint.protocol, hostname: target.endpoint.hostname, port: target.endpoint.port ? Number(target.endpoint.port) : undefined, path: url.pathname, query, headers, body: payload });
  for (let attempt = 1; ; attempt++) {
    const { status, text } = await send(url, method, signed.headers as Record<string, string>, payload, target.ca);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    // A server under --throttle refuses before it acts: wait and send again, as the SDKs' standard retry does.
    const throttled = (status === 400 || status === 429) && (json as { __type?: string } | undefined)?.__type === 'ThrottlingException';
    if (!throttled || attempt === MAX_ATTEMPTS) return { status, json, text };
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(5000, 100 * 2 ** attempt)));
  }
}

const MAX_ATTEMPTS = 8;

/** One request with node:http(s), which takes a CA per request (fetch takes none); a failure to reach the server is a ClientError. */
function send(url: URL, method: string, headers: Record<string, string>, body: string, ca: string | undefined): Promise<{ status: number; text: string }> {
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ...(ca !== undefined ? { ca } : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const hint = url.protocol === 'https:' && /certificate/i.test(err.message) ? ' (give the CA that signed it with --ca)' : '';
      reject(new ClientError(`cannot reach ${url.origin}: ${err.message}${hint}`));
    });
    req.end(body || undefined);
  });
}
