import http from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../src/crypto/sha256.js';
import { REGION, TEST_CREDENTIALS } from './server.js';

/** A presigned /mqtt URL as a browser client makes it (with X-Amz-Expires), for the server at `base`. */
export async function presignedMqttUrl(base: string, opts: { expiresIn?: number; date?: Date; secret?: string; service?: string } = {}): Promise<string> {
  const url = new URL(base);
  const signer = new SignatureV4({
    credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: opts.secret ?? TEST_CREDENTIALS.secretAccessKey },
    region: REGION,
    service: opts.service ?? 'iotdevicegateway',
    sha256: Sha256,
  });
  const signed = await signer.presign(
    { method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/mqtt', query: {}, headers: { host: url.host } },
    { expiresIn: opts.expiresIn ?? 300, signingDate: opts.date },
  );
  const query = new URLSearchParams(signed.query as Record<string, string>).toString();
  return `ws://${url.host}/mqtt?${query}`;
}

/** The HTTP answer to a WebSocket upgrade of the raw request target `target`: 101, or the refusal's status and body. */
export function upgrade(base: string, target: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: target, headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'mqtt' } });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
