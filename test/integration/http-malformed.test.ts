import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CreatePackageCommand, CreatePackageVersionCommand, GetPackageCommand, GetPackageVersionCommand, ListPackagesCommand } from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { sendRaw, sendSigned, type RawRequest, type RawResponse } from '../support/raw-signed-http.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/**
 * Malformed HTTP, sent raw but correctly signed (wire.md §8): every answer is an AWS-shaped 4xx
 * (x-amzn-ErrorType + JSON message), never a 500; the server stays up and nothing stored changes.
 */
for (const backend of await testBackends()) {
  describe(`malformed HTTP requests (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let before0: { description?: string; lastModified?: number };
    before(async () => {
      t = await startTestServer(backend);
      await t.iot.send(new CreatePackageCommand({ packageName: 'mal', description: 'untouched' }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'mal', versionName: '1', attributes: { a: 'b' } }));
      const got = await t.iot.send(new GetPackageCommand({ packageName: 'mal' }));
      before0 = { description: got.description, lastModified: got.lastModifiedDate?.getTime() };
      t.clock.advance(10_000);
    });
    after(async () => t?.close());

    /** Sends a signed request and checks the AWS error shape; returns the response for further checks. */
    async function expectError(req: RawRequest, status: number, errorType: string | RegExp): Promise<RawResponse> {
      const res = await sendSigned(t.url, req);
      assert.equal(res.status, status, `${req.method} ${req.path}: ${res.text.slice(0, 300)}`);
      const type = String(res.headers['x-amzn-errortype']);
      if (typeof errorType === 'string') assert.equal(type, errorType);
      else assert.match(type, errorType);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.ok(res.json, `JSON error body: ${res.text.slice(0, 200)}`);
      assert.equal(typeof res.json.message, 'string');
      assert.ok((res.json.message as string).length > 0);
      return res;
    }

    async function assertUp(): Promise<void> {
      const health = await sendRaw(t.url, { method: 'GET', path: '/health' });
      assert.equal(health.status, 200);
      await t.iot.send(new ListPackagesCommand({}));
    }

    it('answers 400 for a body that is not JSON, or not a JSON object', async () => {
      for (const body of ['{"description":', 'not json', '{"description":"x"} trailing', '[]', '[{"description":"x"}]', 'null', '"a string"', '42', '\u0000']) {
        await expectError({ method: 'PATCH', path: '/packages/mal', body }, 400, 'InvalidRequestException');
        await expectError({ method: 'PUT', path: '/packages/mal-new', body }, 400, 'InvalidRequestException');
      }
      await expectAwsError(t.iot.send(new GetPackageCommand({ packageName: 'mal-new' })), 'ResourceNotFoundException');
      await assertUp();
    });

    it('answers ValidationException for members of the wrong type', async () => {
      const cases: [RawRequest, RegExp][] = [
        [{ method: 'PATCH', path: '/packages/mal', body: '{"description":5}' }, /Value '5' at 'description' failed to satisfy constraint: Member must be a string/],
        [{ method: 'PATCH', path: '/packages/mal', body: '{"description":{"nested":true}}' }, /at 'description'/],
        [{ method: 'PATCH', path: '/packages/mal', body: '{"unsetDefaultVersion":"true"}' }, /at 'unsetDefaultVersion' failed to satisfy constraint: Member must be a boolean/],
        [{ method: 'PATCH', path: '/packages/mal', body: '{"defaultVersionName":1}' }, /at 'defaultVersionName'/],
        [{ method: 'PATCH', path: '/packages/mal/versions/1', body: '{"attributes":"x"}' }, /Value 'x' at 'attributes' failed to satisfy constraint: Member must be a structure/],
        [{ method: 'PATCH', path: '/packages/mal/versions/1', body: '{"attributes":["a"]}' }, /at 'attributes'/],
        [{ method: 'PATCH', path: '/packages/mal/versions/1', body: '{"attributes":{"a":1}}' }, /attributes/],
        [{ method: 'PATCH', path: '/packages/mal/versions/1', body: '{"attributes":{"a":null}}' }, /attributes/],
        [{ method: 'PATCH', path: '/packages/mal/versions/1', body: '{"artifact":"s3://b/k"}' }, /at 'artifact'/],
        [{ method: 'PATCH', path: '/packages/mal/versions/1', body: '{"artifact":{"s3Location":{"bucket":7,"key":"k"}}}' }, /artifact\.s3Location\.bucket/],
        [{ method: 'PATCH', path: '/packages/mal/versions/1', body: '{"recipe":["r"]}' }, /at 'recipe'/],
        [{ method: 'PATCH', path: '/packages/mal/versions/1', body: '{"action":"DELETE"}' }, /Value 'DELETE' at 'action' failed to satisfy constraint: Member must satisfy enum value set: \[PUBLISH, DEPRECATE\]/],
        [{ method: 'PATCH', path: '/packages/mal/versions/1', body: '{"action":"publish"}' }, /at 'action'/],
        [{ method: 'PATCH', path: '/packages/mal/versions/1', body: '{"action":1}' }, /at 'action'/],
        [{ method: 'PUT', path: '/packages/mal-typed', body: '{"tags":["a"]}' }, /at 'tags'/],
        [{ method: 'PUT', path: '/packages/mal-typed', body: '{"tags":{"k":5}}' }, /tags/],
        [{ method: 'PUT', path: '/packages/mal/versions/1/sbom', body: '{"sbom":"x"}' }, /sbom/],
        [{ method: 'PATCH', path: '/package-configuration', body: '{"versionUpdateByJobsConfig":{"enabled":"yes"}}' }, /versionUpdateByJobsConfig\.enabled/],
        [{ method: 'PATCH', path: '/package-configuration', body: '{"versionUpdateByJobsConfig":[]}' }, /versionUpdateByJobsConfig/],
        [{ method: 'GET', path: '/packages', query: { maxResults: 'abc' } }, /Value 'abc' at 'maxResults' failed to satisfy constraint: Member must be a number/],
        [{ method: 'GET', path: '/packages', query: { maxResults: '1.5' } }, /at 'maxResults'/],
        [{ method: 'GET', path: '/packages', query: { maxResults: '99999999999999999999999' } }, /at 'maxResults'/],
        [{ method: 'GET', path: '/packages/mal/versions', query: { status: 'draft' } }, /at 'status'/],
      ];
      for (const [req, message] of cases) {
        const res = await expectError(req, 400, 'ValidationException');
        assert.match(res.json!.message as string, message);
        assert.equal(res.json!.__type, 'ValidationException');
      }
      await expectAwsError(t.iot.send(new GetPackageCommand({ packageName: 'mal-typed' })), 'ResourceNotFoundException');
      await assertUp();
    });

    it('answers InvalidRequestException for malformed tagging requests', async () => {
      const arn = 'arn:aws:iot:us-east-1:123456789012:package/mal';
      for (const body of [
        `{"resourceArn":"${arn}","tags":{"a":"b"}}`,
        `{"resourceArn":"${arn}","tags":[null]}`,
        `{"resourceArn":"${arn}","tags":[{"Key":5,"Value":6}]}`,
        `{"resourceArn":5,"tags":[]}`,
        `{"tags":[]}`,
      ]) {
        await expectError({ method: 'POST', path: '/tags', body }, 400, 'InvalidRequestException');
      }
      await expectError({ method: 'POST', path: '/untag', body: `{"resourceArn":"${arn}","tagKeys":"k"}` }, 400, 'InvalidRequestException');
      await expectError({ method: 'POST', path: '/untag', body: `{"resourceArn":"${arn}","tagKeys":[5]}` }, 400, 'InvalidRequestException');
      await expectError({ method: 'GET', path: '/tags' }, 400, 'InvalidRequestException');
    });

    it('survives pathological but small JSON: deep nesting and thousands of bad keys', async () => {
      const deep = deepArray(100_000);
      await expectError({ method: 'PATCH', path: '/packages/mal', body: `{"description":${deep}}` }, 400, 'ValidationException');
      await expectError({ method: 'PATCH', path: '/packages/mal/versions/1', body: `{"attributes":{"a":${deep}}}` }, 400, 'ValidationException');
      await expectError({ method: 'PUT', path: '/packages/mal-deep', body: `{"tags":{"a":${deep}}}` }, 400, 'ValidationException');
      await expectError({ method: 'PATCH', path: '/package-configuration', body: `{"versionUpdateByJobsConfig":{"enabled":${deep}}}` }, 400, 'ValidationException');
      await expectError({ method: 'POST', path: '/tags', body: `{"resourceArn":"arn:aws:iot:us-east-1:123456789012:package/mal","tags":[${deep}]}` }, 400, 'InvalidRequestException');

      const manyBadKeys = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`bad key ${i}`, 'v']));
      const res = await expectError({ method: 'PATCH', path: '/packages/mal/versions/1', body: JSON.stringify({ attributes: manyBadKeys }) }, 400, 'ValidationException');
      assert.match(res.json!.message as string, /^20000 validation errors detected: /);
      assert.ok(res.text.length < 20_000, `the error stays small (${res.text.length} bytes)`);
      await assertUp();
    });

    it('answers 413 for a body over 1 MiB, declared or streamed', async () => {
      const body = JSON.stringify({ description: 'x'.repeat(1024 * 1024) });
      await expectError({ method: 'PATCH', path: '/packages/mal', body }, 413, 'RequestEntityTooLargeException');
      await expectError({ method: 'PATCH', path: '/packages/mal', body, headers: { 'content-length': null, 'transfer-encoding': 'chunked' } }, 413, 'RequestEntityTooLargeException');
      await assertUp();
    });

    it('answers 400 for a path that is not validly percent-encoded', async () => {
      for (const path of ['/packages/%E0%A4%A', '/packages/%ZZ', '/packages/mal/versions/%', '/packages/%C3']) {
        await expectError({ method: 'GET', path }, 400, 'InvalidRequestException');
      }
      await expectError({ method: 'PATCH', path: '/packages/%E0%A4%A', body: '{"description":"x"}' }, 400, 'InvalidRequestException');
      // The same for the query string, which the signature check has to decode.
      await expectError({ method: 'GET', path: '/packages?nextToken=%ZZ' }, 400, 'InvalidRequestException');
      await expectError({ method: 'PATCH', path: '/packages/mal?clientToken=%E0%A4%A', body: '{"description":"x"}' }, 400, 'InvalidRequestException');
      // Decodable but invalid names are validation errors, however long.
      await expectError({ method: 'GET', path: '/packages/caf%C3%A9' }, 400, 'ValidationException');
      await expectError({ method: 'GET', path: `/packages/${'a'.repeat(5000)}` }, 400, 'ValidationException');
      await assertUp();
    });

    it('shrugs off a client that hangs up in the middle of its body', async () => {
      await new Promise<void>((resolve, reject) => {
        const url = new URL(t.url);
        const socket = connect(Number(url.port), url.hostname, () => {
          socket.write(`PATCH /packages/mal HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"description":"half`);
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 50);
        });
        socket.on('error', reject);
      });
      await assertUp();
    });

    it('answers 415 for a body without a JSON content type', async () => {
      for (const contentType of [null, 'text/plain', 'application/xml', 'application/jsonx', 'multipart/form-data; boundary=x']) {
        await expectError({ method: 'PATCH', path: '/packages/mal', body: '{"description":"changed"}', headers: { 'content-type': contentType } }, 415, 'UnsupportedMediaTypeException');
      }
      // JSON content types with parameters are fine; an empty body needs no content type.
      const ok = await sendSigned(t.url, { method: 'PUT', path: '/packages/mal-charset', body: '{"description":"ok"}', headers: { 'content-type': 'application/json; charset=utf-8' } });
      assert.equal(ok.status, 200, ok.text);
      const empty = await sendSigned(t.url, { method: 'PUT', path: '/packages/mal-empty', body: '', headers: { 'content-type': null } });
      assert.equal(empty.status, 200, empty.text);
      assert.equal(empty.json?.packageName, 'mal-empty');
    });

    it('answers 404 UnknownOperationException for an unknown path or method', async () => {
      for (const req of [
        { method: 'GET', path: '/nothing-here' },
        { method: 'GET', path: '/packages/mal/versions/1/unknown' },
        { method: 'POST', path: '/packages/mal' },
        { method: 'GET', path: '/packages/mal/' },
      ]) {
        await expectError(req, 404, 'UnknownOperationException');
      }
    });

    it('answers 403 for a signing name the server does not serve', async () => {
      const res = await sendSigned(t.url, { method: 'GET', path: '/packages' }, { service: 'dynamodb' });
      assert.equal(res.status, 403);
      assert.ok(res.headers['x-amzn-errortype']);
      assert.equal(typeof res.json?.message, 'string');
    });

    it('keeps an attribute named __proto__ like any other', async () => {
      const created = await sendSigned(t.url, { method: 'PUT', path: '/packages/mal/versions/proto', body: '{"attributes":{"__proto__":"x","constructor":"y"}}' });
      assert.equal(created.status, 200, created.text);
      const got = await sendSigned(t.url, { method: 'GET', path: '/packages/mal/versions/proto' });
      assert.equal(got.status, 200);
      const attributes = got.json?.attributes as Record<string, unknown>;
      assert.deepEqual(Object.keys(attributes).sort(), ['__proto__', 'constructor']);
      assert.equal(attributes.constructor, 'y');
      assert.ok(got.text.includes('"__proto__":"x"'), got.text);
    });

    // Runs last (tests in a suite run in order): whatever was thrown at the server above, the
    // package stored before it is exactly as it was.
    it('changed nothing that was stored before', async () => {
      const got = await t.iot.send(new GetPackageCommand({ packageName: 'mal' }));
      assert.equal(got.description, before0.description);
      assert.equal(got.lastModifiedDate?.getTime(), before0.lastModified);
      const version = await t.iot.send(new GetPackageVersionCommand({ packageName: 'mal', versionName: '1' }));
      assert.deepEqual(version.attributes, { a: 'b' });
      assert.equal(version.status, 'DRAFT');
      const config = await sendSigned(t.url, { method: 'GET', path: '/package-configuration' });
      assert.deepEqual(config.json, { versionUpdateByJobsConfig: { enabled: false } });
      await assertUp();
    });
  });
}
