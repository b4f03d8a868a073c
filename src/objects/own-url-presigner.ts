import { SignatureV4 } from '@smithy/signature-v4';
import type { Clock } from '../clock.js';
import type { Presigner } from './fs-object-store.js';
import { Sha256 } from '../crypto/sha256.js';

/** S3's URI encoding of a key in a path: every byte but A-Z a-z 0-9 - . _ ~ and '/' as %XX. */
export function encodeS3Key(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

export interface OwnUrlPresignerOptions {
  region: string;
  /**
   * The server's own key pair, read when signing (it is loaded after the stores are built);
   * undefined with --no-auth: URLs are then signed with a placeholder key nobody checks.
   */
  credentials: () => { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Signing time: the verifier checks expiry against the wall clock, so this is the wall clock. */
  clock: Clock;
}

/**
 * Presigned GET and PUT URLs for the embedded S3 subset on our own port, verified later by the door's
 * presigned-URL check like any other SigV4 query-signed request. The base URL is known only once
 * the server listens, hence `setBaseUrl`.
 */
export class OwnUrlPresigner implements Presigner {
  private baseUrl?: URL;
  private signer?: { keyId: string; signer: SignatureV4 };

  constructor(private readonly options: OwnUrlPresignerOptions) {}

  private signerFor(credentials: { accessKeyId: string; secretAccessKey: string }): SignatureV4 {
    if (this.signer?.keyId !== credentials.accessKeyId) {
      this.signer = {
        keyId: credentials.accessKeyId,
        signer: new SignatureV4({ credentials, region: this.options.region, service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: false }),
      };
    }
    return this.signer.signer;
  }

  setBaseUrl(url: string): void {
    this.baseUrl = new URL(url);
  }

  presignGet(bucket: string, key: string, versionId: string | undefined, expiresInSeconds: number): Promise<string> {
    return this.presign('GET', bucket, key, versionId !== undefined ? { versionId } : {}, expiresInSeconds);
  }

  presignPut(bucket: string, key: string, expiresInSeconds: number): Promise<string> {
    return this.presign('PUT', bucket, key, {}, expiresInSeconds);
  }

  private async presign(method: 'GET' | 'PUT', bucket: string, key: string, query: Record<string, string>, expiresInSeconds: number): Promise<string> {
    if (!this.baseUrl) throw new Error('the server URL is not known yet');
    const base = this.baseUrl;
    const basePath = base.pathname.replace(/\/$/, '');
    const path = `${basePath}/${bucket}/${encodeS3Key(key)}`;
    const credentials = this.options.credentials() ?? { accessKeyId: 'fleetjobs-no-auth', secretAccessKey: 'fleetjobs-no-auth' };
    const signed = await this.signerFor(credentials).presign(
      {
        method,
        protocol: base.protocol,
        hostname: base.hostname,
        port: base.port ? Number(base.port) : undefined,
        path,
        query,
        headers: { host: base.host, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
      },
      { expiresIn: expiresInSeconds, signingDate: new Date(this.options.clock.now()) },
    );
    const q = Object.entries(signed.query ?? {})
      .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v as string]]))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');
    return `${base.protocol}//${base.host}${path}?${q}`;
  }
}
