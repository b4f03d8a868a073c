import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { VirtualClock } from '../../src/clock.js';
import { testBackends } from '../support/backends.js';
import { connectSdkDevice, releaseSdkObjects, sdkWebSocketConfig } from '../support/device-sdk.js';
import { seedThing } from '../support/jobs.js';
import { tryConnect } from '../support/mqtt.js';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';
import { presignedMqttUrl as presignedUrl, upgrade as upgradeAt } from '../support/websocket.js';

/**
 * MQTT over WebSockets at /mqtt on the HTTP port, authenticated by a SigV4-presigned URL
 * (device-security.md §6.3, decision 0043): the Device SDK's URL (no X-Amz-Expires, token appended
 * after signing) is valid within 15 minutes of its date; a URL with X-Amz-Expires until then; any
 * other is refused before the upgrade with 403.
 */

/** The request target of a ws:// URL. */
const targetOf = (url: string) => {
  const u = new URL(url);
  return u.pathname + u.search;
};

for (const backend of await testBackends()) {
  describe(`MQTT over WebSockets with SigV4 (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const signatureClock = new VirtualClock(Date.now());
    before(async () => {
      t = await startTestServer(backend, { signatureClock });
      for (const name of ['ws-sdk', 'ws-js']) await seedThing(t, name);
    });
    after(async () => {
      await t?.close();
      await releaseSdkObjects();
    });

    it('serves the Device SDK\'s websockets builder with static credentials, as the TCP listener does', async () => {
      signatureClock.set(Date.now());
      const d = await connectSdkDevice(t.url, 'ws-sdk', { config: sdkWebSocketConfig(t.url, 'ws-sdk', { ...TEST_CREDENTIALS, sessionToken: 'TOKEN/with+special=' }) });
      try {
        const pending = await d.jobs.getPendingJobExecutions({ thingName: 'ws-sdk' });
        assert.deepEqual(pending.queuedJobs, []);
      } finally {
        await d.close();
      }
    });

    it('refuses the SDK\'s URL signed with a wrong secret, and once its date is more than 15 minutes old', async () => {
      signatureClock.set(Date.now());
      await assert.rejects(connectSdkDevice(t.url, 'ws-sdk', { config: sdkWebSocketConfig(t.url, 'ws-sdk', { ...TEST_CREDENTIALS, secretAccessKey: 'wrong-secret' }) }));
      signatureClock.set(Date.now() + 16 * 60_000);
      await assert.rejects(connectSdkDevice(t.url, 'ws-sdk', { config: sdkWebSocketConfig(t.url, 'ws-sdk', TEST_CREDENTIALS) }));
      signatureClock.set(Date.now() + 14 * 60_000);
      const d = await connectSdkDevice(t.url, 'ws-sdk', { config: sdkWebSocketConfig(t.url, 'ws-sdk', TEST_CREDENTIALS) });
      await d.close();
    });

    it('honours X-Amz-Expires when the URL has one (mqtt.js)', async () => {
      signatureClock.set(Date.now());
      const url = await presignedUrl(t.url, { expiresIn: 60 });
      const ok = await tryConnect(url, 'ws-js');
      assert.equal(ok.connected, true);
      const reply = new Promise<string>((resolve) => ok.client.on('message', (topic) => resolve(topic)));
      await ok.client.publishAsync('$aws/things/ws-js/jobs/get', '{}');
      assert.equal(await reply, '$aws/things/ws-js/jobs/get/accepted');
      await ok.client.endAsync();
      signatureClock.advance(61_000);
      const expired = await upgradeAt(t.url, targetOf(url));
      assert.equal(expired.status, 403);
      assert.equal(JSON.parse(expired.body).__type, 'InvalidSignatureException');
      assert.match(JSON.parse(expired.body).message, /expired/);
      assert.equal((await tryConnect(url, 'ws-js')).connected, false);
    });

    it('refuses a wrong signature, an altered query, a foreign signing name and an unsigned URL before the upgrade', async () => {
      signatureClock.set(Date.now());
      const good = await presignedUrl(t.url);
      assert.equal((await upgradeAt(t.url, targetOf(good))).status, 101);
      // The session token is appended after signing: it is not part of what was signed.
      assert.equal((await upgradeAt(t.url, targetOf(`${good}&X-Amz-Security-Token=${encodeURIComponent('TOKEN/x+y=')}`))).status, 101);
      const cases: [string, string, string][] = [
        ['a wrong secret', await presignedUrl(t.url, { secret: 'not-the-secret' }), 'InvalidSignatureException'],
        ['an added query pair', `${good}&extra=1`, 'InvalidSignatureException'],
        ['an altered signature', good.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`), 'InvalidSignatureException'],
        ['another signing name', await presignedUrl(t.url, { service: 'iotdata' }), 'InvalidSignatureException'],
        ['a date in the future', await presignedUrl(t.url, { date: new Date(Date.now() + 20 * 60_000) }), 'InvalidSignatureException'],
        ['no signature at all', `ws://${new URL(t.url).host}/mqtt`, 'MissingAuthenticationTokenException'],
      ];
      for (const [what, url, error] of cases) {
        const answer = await upgradeAt(t.url, targetOf(url));
        assert.equal(answer.status, 403, what);
        assert.equal(JSON.parse(answer.body).__type, error, what);
      }
      const elsewhere = await upgradeAt(t.url, targetOf(good.replace('/mqtt?', '/other?')));
      assert.equal(elsewhere.status, 404);
    });
  });
}
