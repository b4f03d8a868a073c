import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteThingShadowCommand,
  GetThingShadowCommand,
  UpdateThingShadowCommand,
  type IoTDataPlaneClient,
} from '@aws-sdk/client-iot-data-plane';
import { testBackends } from '../support/backends.js';
import { decodeShadow, iotDataClient } from '../support/iot-data.js';
import { sendSigned } from '../support/raw-signed-http.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

/** `levels` nested objects (the section object itself being level 1). */
function nested(levels: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 1; i < levels; i++) v = { n: v };
  return { n: v };
}

for (const backend of await testBackends()) {
  describe(`device shadow request validation and wire (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let data: IoTDataPlaneClient;
    before(async () => {
      t = await startTestServer(backend);
      data = iotDataClient(t);
    });
    after(async () => {
      data?.destroy();
      await t?.close();
    });

    const send = (payload: string | Uint8Array, thingName = 'v1', shadowName?: string) =>
      data.send(new UpdateThingShadowCommand({ thingName, shadowName, payload }));
    const invalid = (payload: string | Uint8Array, message: string) =>
      expectAwsError(send(payload), 'InvalidRequestException', { status: 400, message }).then((e) => assert.equal(e.message, message));

    it('answers every documented 400 text, in the documented order', async () => {
      await invalid('', 'Invalid JSON');
      await invalid('{"state":{"desired":', 'Invalid JSON');
      await invalid('{"clientToken":"x"}', 'Missing required node: state');
      await invalid('{"state":"on"}', 'State node must be an object');
      await invalid('{"state":{"desired":{"a":1},"delta":{"a":1}}}', 'State contains an invalid node');
      await invalid('{"state":{"desired":[1]}}', 'Desired node must be an object');
      await invalid('{"state":{"reported":"x"}}', 'Reported node must be an object');
      await invalid(JSON.stringify({ state: { desired: nested(9) } }), 'JSON contains too many levels of nesting; maximum is 6');
      await invalid('{"state":{"reported":{"list":[1,null]}}}', 'Invalid JSON');
      await invalid(JSON.stringify({ state: { reported: {} }, clientToken: 'c'.repeat(65) }), 'Invalid clientToken');
      await invalid(JSON.stringify({ state: { reported: {} }, version: -2 }), 'Invalid version');
      await invalid(JSON.stringify({ state: { reported: {} }, version: 'one' }), 'Invalid version');
      // Earlier steps win: a bad section shape is reported before the bad token.
      await invalid(JSON.stringify({ state: { reported: 1 }, clientToken: 7 }), 'Reported node must be an object');
      // None of them created the shadow.
      await expectAwsError(data.send(new GetThingShadowCommand({ thingName: 'v1' })), 'ResourceNotFoundException');

      // The limits themselves are allowed: 8 levels, a 64-byte token; other top-level members are ignored.
      const ok = decodeShadow((await send(JSON.stringify({ state: { desired: nested(8) }, clientToken: 'c'.repeat(64), thingName: 'v1', metadata: { x: 1 } }))).payload);
      assert.equal(ok.version, 1);
      assert.equal(ok.clientToken, 'c'.repeat(64));
    });

    it('refuses a body that is not UTF-8 with 415', async () => {
      await expectAwsError(send(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d])), 'UnsupportedDocumentEncodingException',
        { status: 415, message: 'Unsupported documented encoding; supported encoding is UTF-8' });
    });

    it('refuses a resulting state over 8 KB with 413 and stores nothing', async () => {
      await expectAwsError(send(JSON.stringify({ state: { desired: { big: 'x'.repeat(8200) } } }), 'big'), 'RequestEntityTooLargeException',
        { status: 413, message: 'The payload exceeds the maximum size allowed' });
      await expectAwsError(data.send(new GetThingShadowCommand({ thingName: 'big' })), 'ResourceNotFoundException');

      // A small update fails when the stored document is already near the limit; metadata does not count.
      await send(JSON.stringify({ state: { desired: { a: 'x'.repeat(5000) } } }), 'big');
      await send(JSON.stringify({ state: { reported: { b: 'y'.repeat(3000) } } }), 'big');
      await expectAwsError(send(JSON.stringify({ state: { reported: { c: 'z'.repeat(200) } } }), 'big'), 'RequestEntityTooLargeException', { status: 413 });
      const doc = decodeShadow((await data.send(new GetThingShadowCommand({ thingName: 'big' }))).payload);
      assert.equal(doc.version, 2);
      assert.deepEqual(Object.keys(doc.state.reported), ['b']);
      // Shrinking the document makes room again.
      assert.equal(decodeShadow((await send(JSON.stringify({ state: { desired: null, reported: { c: 'z'.repeat(200) } } }), 'big')).payload).version, 3);
    });

    it('answers a body over the 1 MiB request limit with the same 413 text', async () => {
      await expectAwsError(send(JSON.stringify({ state: { desired: { huge: 'x'.repeat(1_100_000) } } }), 'huge'), 'RequestEntityTooLargeException',
        { status: 413, message: 'The payload exceeds the maximum size allowed' });
      await expectAwsError(data.send(new GetThingShadowCommand({ thingName: 'huge' })), 'ResourceNotFoundException');
    });

    it('validates thing and shadow names', async () => {
      const body = JSON.stringify({ state: { reported: { a: 1 } } });
      await expectAwsError(send(body, 'v1', ''), 'InvalidRequestException', { status: 400, message: 'shadowName' });
      await expectAwsError(send(body, 'v1', 's'.repeat(65)), 'InvalidRequestException', { status: 400, message: 'shadowName' });
      await expectAwsError(send(body, 'v1', 'bad name'), 'InvalidRequestException', { status: 400, message: 'shadowName' });
      await expectAwsError(send(body, 'bad name'), 'InvalidRequestException', { status: 400, message: 'thingName' });
      await expectAwsError(send(body, 't'.repeat(129)), 'InvalidRequestException', { status: 400, message: 'thingName' });
      await expectAwsError(data.send(new GetThingShadowCommand({ thingName: 'v1', shadowName: '' })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(data.send(new DeleteThingShadowCommand({ thingName: 'v1', shadowName: 'a/b' })), 'InvalidRequestException', { status: 400 });
      // The longest legal names work.
      assert.equal(decodeShadow((await send(body, 't'.repeat(128), `$${'s'.repeat(63)}`)).payload).version, 1);
    });

    it('speaks the iot-data wire: raw bodies with or without content type, both signing names, AWS-shaped errors', async () => {
      // boto3 and the CLI send the payload without a content type.
      const raw = await sendSigned(t.url, { method: 'POST', path: '/things/wire/shadow', query: { name: 'cfg' }, body: '{"state":{"desired":{"a":1}}}', headers: { 'content-type': null } },
        { service: 'iotdata' });
      assert.equal(raw.status, 200);
      assert.equal(raw.json?.version, 1);

      // The guide's older scope name reaches the same service.
      const alias = await sendSigned(t.url, { method: 'GET', path: '/things/wire/shadow', query: { name: 'cfg' } }, { service: 'iotdevicegateway' });
      assert.equal(alias.status, 200);
      assert.deepEqual((alias.json?.state as Record<string, unknown>).desired, { a: 1 });

      // Errors carry x-amzn-ErrorType and a message, never a numeric `code` member.
      const missing = await sendSigned(t.url, { method: 'GET', path: '/things/wire/shadow' }, { service: 'iotdata' });
      assert.equal(missing.status, 404);
      assert.equal(missing.headers['x-amzn-errortype'], 'ResourceNotFoundException');
      assert.equal(missing.json?.message, "No shadow exists with name: 'wire'");
      assert.equal(missing.json?.code, undefined);

      const wrongVerb = await sendSigned(t.url, { method: 'PUT', path: '/things/wire/shadow', body: '{}' }, { service: 'iotdata' });
      assert.equal(wrongVerb.status, 405);
      assert.equal(wrongVerb.headers['x-amzn-errortype'], 'MethodNotAllowedException');

      // The same path under the control-plane scope is not a shadow route.
      const controlPlane = await sendSigned(t.url, { method: 'GET', path: '/things/wire/shadow' }, { service: 'iot' });
      assert.notEqual(controlPlane.status, 200);
    });
  });

  // Its own suite: the first server is closed by then (two PostgreSQL test servers alive at once in
  // one process trip over Kysely's migration-table lookup, which sees the other server's schema).
  describe(`device shadow settings (${backend.name})`, { skip: backend.skip }, () => {
    it('takes its limits from settings', async () => {
      const tight = await startTestServer(backend, { shadowSettings: { maxStateBytes: 40, maxDepth: 2, tombstoneMs: 60_000, rejectOtherDollarShadowNames: true } });
      const client = iotDataClient(tight);
      try {
        const put = (doc: unknown, shadowName?: string) => client.send(new UpdateThingShadowCommand({ thingName: 's', shadowName, payload: JSON.stringify(doc) }));
        await expectAwsError(put({ state: { desired: { text: 'x'.repeat(40) } } }), 'RequestEntityTooLargeException', { status: 413 });
        await expectAwsError(put({ state: { desired: { a: { b: 1 }, c: [[1]] } } }), 'InvalidRequestException', { message: 'too many levels of nesting' });
        await expectAwsError(put({ state: { desired: { a: 1 } } }, '$config'), 'InvalidRequestException', { status: 400, message: '$config' });
        await put({ state: { reported: { p: { version: '1' } } } }, '$package');
        await put({ state: { desired: { a: { b: 1 } } } });
        await client.send(new DeleteThingShadowCommand({ thingName: 's' }));
        tight.clock.advance(61_000);
        assert.equal(decodeShadow((await put({ state: { desired: { a: 1 } } })).payload).version, 1, 'the tombstone window is a setting');
      } finally {
        client.destroy();
        await tight.close();
      }
    });
  });
}
