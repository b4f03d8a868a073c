import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CreateMultipartUploadCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { testBackends } from '../support/backends.js';
import { KeepAliveSocket } from '../support/keep-alive-socket.js';
import { signHeaders } from '../support/raw-signed-http.js';
import { putTestObject, s3Client } from '../support/s3.js';
import { startTestServer, type TestServer } from '../support/server.js';

const enc = (q: Record<string, string>) =>
  Object.keys(q).length === 0 ? '' : '?' + Object.entries(q).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

interface Probe {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  code: string;
}

const token = (v: unknown[]) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * Values that reach a response header or the database (issue 8, item 6): version ids and
 * response-* overrides a header cannot carry, and NUL in any name. Each gets S3's 400 XML error
 * on both backends, and the kept-alive connection serves the next request correctly.
 */
for (const backend of await testBackends()) {
  describe(`embedded S3: hostile names and header values (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let s3: S3Client;
    let uploadId: string;
    before(async () => {
      t = await startTestServer(backend);
      s3 = s3Client(t);
      await putTestObject(t, 'hostile', 'k', 'kept body');
      uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: 'hostile', Key: 'mp' }))).UploadId!;
    });
    after(async () => {
      s3?.destroy();
      await t?.close();
    });

    async function signed(p: Omit<Probe, 'code'>): Promise<Record<string, string>> {
      const headers = await signHeaders(t.url, { method: p.method, path: p.path, query: p.query, headers: { 'content-type': null, ...(p.headers ?? {}) } }, { service: 's3' });
      delete headers.connection;
      return headers;
    }

    /** Sends `probe`, then a valid GetObject on the same connection; both answers must frame correctly. */
    async function probeThenGet(socket: KeepAliveSocket, probe: Probe): Promise<void> {
      socket.send(probe.method, probe.path + enc(probe.query ?? {}), await signed(probe));
      const res = await socket.read({ head: probe.method === 'HEAD' });
      const what = `${probe.method} ${probe.path}${enc(probe.query ?? {})}`;
      assert.equal(res.status, 400, `${what}: ${res.statusLine} ${res.body}`);
      assert.match(res.statusLine, /^HTTP\/1\.1 400 Bad Request$/);
      if (probe.method !== 'HEAD') {
        assert.equal(Buffer.byteLength(res.body), Number(res.headers['content-length']), what);
        assert.match(res.body, new RegExp(`<Code>${probe.code}</Code>`), `${what}: ${res.body}`);
        assert.match(res.headers['content-type'] ?? '', /xml/);
      }
      socket.send('GET', '/hostile/k', await signed({ method: 'GET', path: '/hostile/k' }));
      const next = await socket.read();
      assert.equal(next.status, 200, `after ${what}: ${next.statusLine}`);
      assert.equal(next.body, 'kept body');
    }

    it('refuses version ids a header cannot carry, keeping the connection in step', async () => {
      const socket = await KeepAliveSocket.open(t.url);
      try {
        for (const v of ['\n', '€', '\u0000', 'a\r\nx-injected: 1', ' ']) {
          for (const method of ['DELETE', 'GET', 'HEAD']) await probeThenGet(socket, { method, path: '/hostile/k', query: { versionId: v }, code: 'InvalidArgument' });
        }
      } finally {
        socket.close();
      }
    });

    it('refuses response-* overrides that are no header value, without leaking file handles', async () => {
      const socket = await KeepAliveSocket.open(t.url);
      try {
        for (const [param, value] of [['response-content-type', '\n'], ['response-content-disposition', 'attachment; filename="€.bin"'], ['response-cache-control', '\u0001'], ['response-expires', '\u0000']]) {
          await probeThenGet(socket, { method: 'GET', path: '/hostile/k', query: { [param]: value }, code: 'InvalidArgument' });
          await probeThenGet(socket, { method: 'HEAD', path: '/hostile/k', query: { [param]: value }, code: 'InvalidArgument' });
        }
        const fds = () => readdirSync('/proc/self/fd').length;
        const before = fds();
        for (let i = 0; i < 300; i++) {
          socket.send('GET', '/hostile/k?response-content-type=%0A', await signed({ method: 'GET', path: '/hostile/k', query: { 'response-content-type': '\n' } }));
          assert.equal((await socket.read()).status, 400);
        }
        assert.ok(fds() - before < 30, `open descriptors grew from ${before} to ${fds()}`);
      } finally {
        socket.close();
      }
      // A valid override still works.
      const got = await s3.send(new GetObjectCommand({ Bucket: 'hostile', Key: 'k', ResponseContentType: 'text/plain' }));
      assert.equal(got.ContentType, 'text/plain');
    });

    it('refuses a NUL in any name alike on both backends', async () => {
      const probes: Probe[] = [
        { method: 'GET', path: '/host%00ile/k', code: 'InvalidBucketName' },
        { method: 'PUT', path: '/host%00ile', code: 'InvalidBucketName' },
        { method: 'GET', path: '/hostile/k%00x', code: 'InvalidArgument' },
        { method: 'HEAD', path: '/hostile/k%00x', code: 'InvalidArgument' },
        { method: 'DELETE', path: '/hostile/k%00x', code: 'InvalidArgument' },
        { method: 'PUT', path: '/hostile/k%00x', code: 'InvalidArgument' },
        { method: 'GET', path: '/hostile/k', query: { versionId: 'v\u0000' }, code: 'InvalidArgument' },
        { method: 'DELETE', path: '/hostile/mp', query: { uploadId: `${'x'}\u0000` }, code: 'InvalidArgument' },
        { method: 'GET', path: '/hostile', query: { prefix: 'a\u0000' }, code: 'InvalidArgument' },
        { method: 'GET', path: '/hostile', query: { marker: '\u0000' }, code: 'InvalidArgument' },
        { method: 'GET', path: '/hostile', query: { delimiter: '\u0000' }, code: 'InvalidArgument' },
        { method: 'GET', path: '/hostile', query: { 'list-type': '2', 'start-after': '\u0000' }, code: 'InvalidArgument' },
        { method: 'GET', path: '/hostile', query: { 'list-type': '2', 'continuation-token': '\u0000' }, code: 'InvalidArgument' },
        { method: 'GET', path: '/hostile', query: { 'list-type': '2', 'continuation-token': token(['a\u0000']) }, code: 'InvalidArgument' },
        { method: 'GET', path: '/hostile', query: { versions: '', 'key-marker': '\u0000' }, code: 'InvalidArgument' },
        { method: 'GET', path: '/hostile', query: { versions: '', 'key-marker': 'k', 'version-id-marker': 'v\u0000' }, code: 'InvalidArgument' },
        { method: 'PUT', path: '/hostile/copy', headers: { 'x-amz-copy-source': '/hostile/k%00' }, code: 'InvalidArgument' },
        { method: 'PUT', path: '/hostile/copy', headers: { 'x-amz-copy-source': '/host%00ile/k' }, code: 'InvalidArgument' },
        { method: 'PUT', path: '/hostile/copy', headers: { 'x-amz-copy-source': '/hostile/k?versionId=%00' }, code: 'InvalidArgument' },
      ];
      const socket = await KeepAliveSocket.open(t.url);
      try {
        for (const p of probes) await probeThenGet(socket, p);
      } finally {
        socket.close();
      }
      assert.ok(uploadId);
    });
  });
}
