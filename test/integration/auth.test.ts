import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreatePackageCommand, GetPackageCommand, IoTClient, ListPackagesCommand } from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { sendRaw, sendSigned, type RawResponse } from '../support/raw-signed-http.js';
import { expectAwsError, REGION, startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

const MINUTE = 60_000;

/** An AWS-shaped 403: status, x-amzn-ErrorType, and a JSON body with the message. */
function assertDenied(res: RawResponse, errorType: string): void {
  assert.equal(res.status, 403, res.text);
  assert.equal(res.headers['x-amzn-errortype'], errorType);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.ok(res.headers['x-amzn-requestid'], 'x-amzn-RequestId is sent');
  assert.equal(typeof res.json?.message, 'string');
  assert.ok((res.json?.message as string).length > 0);
}

/** SigV4 authentication (wire.md §8): every failure is a 403 before anything runs. */
for (const backend of await testBackends()) {
  describe(`authentication (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const clients: IoTClient[] = [];
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => {
      for (const c of clients) c.destroy();
      await t?.close();
    });

    function client(options: { credentials?: { accessKeyId: string; secretAccessKey: string }; systemClockOffset?: number; region?: string }): IoTClient {
      const c = new IoTClient({ endpoint: t.url, region: options.region ?? REGION, credentials: options.credentials ?? TEST_CREDENTIALS, maxAttempts: 1, systemClockOffset: options.systemClockOffset });
      clients.push(c);
      return c;
    }

    async function assertNotStored(packageName: string): Promise<void> {
      await expectAwsError(t.iot.send(new GetPackageCommand({ packageName })), 'ResourceNotFoundException');
    }

    it('accepts the configured key pair', async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'auth-ok' }));
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'auth-ok' }))).packageName, 'auth-ok');
    });

    it('refuses an unknown access key with UnrecognizedClientException', async () => {
      const stranger = client({ credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: TEST_CREDENTIALS.secretAccessKey } });
      await expectAwsError(stranger.send(new CreatePackageCommand({ packageName: 'auth-unknown-key' })), 'UnrecognizedClientException', { status: 403 });
      await expectAwsError(stranger.send(new ListPackagesCommand({})), 'UnrecognizedClientException', { status: 403 });
      await assertNotStored('auth-unknown-key');
      assertDenied(await sendSigned(t.url, { method: 'PUT', path: '/packages/auth-unknown-key', body: '{}' }, { credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' } }), 'UnrecognizedClientException');
      await assertNotStored('auth-unknown-key');
    });

    it('refuses a wrong secret with InvalidSignatureException', async () => {
      const wrong = client({ credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret-key-0000000000000000000000' } });
      await expectAwsError(wrong.send(new CreatePackageCommand({ packageName: 'auth-wrong-secret' })), 'InvalidSignatureException', { status: 403 });
      await assertNotStored('auth-wrong-secret');
      assertDenied(await sendSigned(t.url, { method: 'PUT', path: '/packages/auth-wrong-secret', body: '{}' }, { credentials: { ...TEST_CREDENTIALS, secretAccessKey: 'wrong' } }), 'InvalidSignatureException');
      await assertNotStored('auth-wrong-secret');
    });

    it('refuses a signature scoped to another region, as a regional endpoint does', async () => {
      const elsewhere = client({ region: 'eu-west-1' });
      const err = await expectAwsError(elsewhere.send(new CreatePackageCommand({ packageName: 'auth-other-region' })), 'InvalidSignatureException', { status: 403 });
      assert.match(err.message, /scoped to a valid region, not 'eu-west-1'/);
      await assertNotStored('auth-other-region');
    });

    it('refuses a request dated 20 minutes away from the server time, either way', async () => {
      for (const offset of [-20 * MINUTE, 20 * MINUTE]) {
        const skewed = client({ systemClockOffset: offset });
        await expectAwsError(skewed.send(new CreatePackageCommand({ packageName: 'auth-skew' })), 'InvalidSignatureException', { status: 403 });
        const raw = await sendSigned(t.url, { method: 'PUT', path: '/packages/auth-skew', body: '{}' }, { signingDate: new Date(Date.now() + offset) });
        assertDenied(raw, 'InvalidSignatureException');
      }
      await assertNotStored('auth-skew');
      // Within the 15-minute window a slow clock is fine.
      await client({ systemClockOffset: -5 * MINUTE }).send(new CreatePackageCommand({ packageName: 'auth-skew-ok' }));
    });

    it('refuses a request without any Authorization with MissingAuthenticationTokenException', async () => {
      assertDenied(await sendRaw(t.url, { method: 'PUT', path: '/packages/auth-unsigned', body: '{}' }), 'MissingAuthenticationTokenException');
      assertDenied(await sendRaw(t.url, { method: 'GET', path: '/packages' }), 'MissingAuthenticationTokenException');
      await assertNotStored('auth-unsigned');
    });

    it('refuses a malformed Authorization header', async () => {
      for (const authorization of ['Bearer abc', 'AWS4-HMAC-SHA256 Credential=AKIAFLEETJOBSTEST0001/20260101/us-east-1/iot/aws4_request', 'AWS4-HMAC-SHA256 garbage']) {
        const res = await sendRaw(t.url, { method: 'PUT', path: '/packages/auth-malformed', body: '{}', headers: { authorization } });
        assert.equal(res.status, 403, `${authorization}: ${res.text}`);
        assert.ok(res.headers['x-amzn-errortype']);
        assert.equal(typeof res.json?.message, 'string');
      }
      await assertNotStored('auth-malformed');
    });

    it('refuses a tampered body, path or query', async () => {
      // The JS SDK sends x-amz-content-sha256; boto3 does not, so the body is hashed into the signature.
      for (const contentSha256Header of [true, false]) {
        const res = await sendSigned(t.url, { method: 'PUT', path: '/packages/auth-tampered', body: '{"description":"evil"}' },
          { signedBody: '{"description":"good"}', contentSha256Header });
        assertDenied(res, 'InvalidSignatureException');
      }
      assertDenied(await sendSigned(t.url, { method: 'PUT', path: '/packages/auth-tampered', body: '{}' }, { signedPath: '/packages/auth-signed' }), 'InvalidSignatureException');
      assertDenied(await sendSigned(t.url, { method: 'PUT', path: '/packages/auth-tampered', query: { clientToken: 'b'.repeat(36) }, body: '{}' },
        { signedQuery: { clientToken: 'a'.repeat(36) } }), 'InvalidSignatureException');
      await assertNotStored('auth-tampered');
      await assertNotStored('auth-signed');

      // The same request signed honestly goes through (the helper signs like the SDK).
      const ok = await sendSigned(t.url, { method: 'PUT', path: '/packages/auth-tampered', query: { clientToken: 'a'.repeat(36) }, body: '{"description":"good"}' });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'auth-tampered' }))).description, 'good');
    });

    it('accepts requests signed the botocore way, without x-amz-content-sha256', async () => {
      const put = await sendSigned(t.url, { method: 'PUT', path: '/packages/auth-boto', body: '{"description":"signed by hashing the body"}' }, { contentSha256Header: false });
      assert.equal(put.status, 200, put.text);
      const get = await sendSigned(t.url, { method: 'GET', path: '/packages/auth-boto' }, { contentSha256Header: false });
      assert.equal(get.status, 200, get.text);
      assert.equal(get.json?.description, 'signed by hashing the body');
      const list = await sendSigned(t.url, { method: 'GET', path: '/packages', query: { maxResults: '1' } }, { contentSha256Header: false });
      assert.equal(list.status, 200, list.text);
    });

    it('refuses a presigned-style request with a bad signature', async () => {
      const res = await sendRaw(t.url, {
        method: 'GET',
        path: '/packages',
        query: {
          'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
          'X-Amz-Credential': `${TEST_CREDENTIALS.accessKeyId}/20260101/${REGION}/iot/aws4_request`,
          'X-Amz-Date': '20260101T000000Z',
          'X-Amz-Expires': '300',
          'X-Amz-SignedHeaders': 'host',
          'X-Amz-Signature': '0'.repeat(64),
        },
      });
      assertDenied(res, 'InvalidSignatureException');
    });
  });

  describe(`authentication switched off (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend, {}, { FLEETJOBS_NO_AUTH: '1' });
    });
    after(async () => t?.close());

    it('accepts wrongly signed, unknown-key and unsigned requests', async () => {
      const wrong = new IoTClient({ endpoint: t.url, region: REGION, credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong' }, maxAttempts: 1 });
      try {
        const created = await wrong.send(new CreatePackageCommand({ packageName: 'noauth-wrong' }));
        assert.equal(created.packageName, 'noauth-wrong');
      } finally {
        wrong.destroy();
      }
      const stranger = await sendSigned(t.url, { method: 'PUT', path: '/packages/noauth-stranger', body: '{}' }, { credentials: { accessKeyId: 'AKIAWHOEVER', secretAccessKey: 'x' } });
      assert.equal(stranger.status, 200, stranger.text);
      const unsigned = await sendRaw(t.url, { method: 'PUT', path: '/packages/noauth-unsigned', body: '{"description":"no signature"}' });
      assert.equal(unsigned.status, 200, unsigned.text);
      const skewed = await sendSigned(t.url, { method: 'GET', path: '/packages' }, { signingDate: new Date(Date.now() - 60 * MINUTE) });
      assert.equal(skewed.status, 200, skewed.text);

      const names = ((await t.iot.send(new ListPackagesCommand({}))).packageSummaries ?? []).map((s) => s.packageName);
      assert.deepEqual(names.sort(), ['noauth-stranger', 'noauth-unsigned', 'noauth-wrong']);
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'noauth-unsigned' }))).description, 'no signature');
    });
  });
}
