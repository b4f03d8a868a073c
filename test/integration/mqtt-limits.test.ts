import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { VirtualClock } from '../../src/clock.js';
import { testBackends } from '../support/backends.js';
import { seedThing } from '../support/jobs.js';
import { TestDevice, tryConnect } from '../support/mqtt.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * AWS IoT's per-client MQTT limits, always on (device-security.md §7, decision 0042): 100 publishes
 * per second per connection, the excess discarded; one CONNECT per second per client id (a burst
 * of 5), the excess refused without CONNACK. A second CONNECT with the same client id takes over.
 */
for (const backend of await testBackends()) {
  describe(`MQTT per-client limits (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const rateClock = new VirtualClock(Date.now());
    before(async () => {
      t = await startTestServer(backend, { rateClock });
      for (const name of ['noisy', 'quiet', 'reconnector', 'other', 'twin']) await seedThing(t, name);
    });
    after(async () => t?.close());

    it('discards a connection\'s publishes beyond 100 per second, slowing only that device', async () => {
      const noisy = await TestDevice.connect(t.server.mqttUrl!, 'noisy');
      const quiet = await TestDevice.connect(t.server.mqttUrl!, 'quiet');
      try {
        const tokens = Array.from({ length: 130 }, (_, i) => `t${i}`);
        const answered = new Set<string>();
        noisy.client.on('message', (topic, payload) => {
          const { clientToken } = JSON.parse(payload.toString()) as { clientToken: string };
          if (topic.endsWith('/jobs/get/accepted') && tokens.includes(clientToken)) answered.add(clientToken);
        });
        // QoS 1: every one is acknowledged, the discarded ones too.
        await Promise.all(tokens.map((clientToken) => noisy.client.publishAsync(noisy.topic('jobs/get'), JSON.stringify({ clientToken }), { qos: 1 })));
        // The quiet device is not slowed by the noisy one.
        assert.equal((await quiet.request('jobs/get')).accepted, true);
        // A second later the noisy device is answered again; its replies come in order, so every
        // earlier answer has arrived once this one has.
        rateClock.advance(1000);
        assert.equal((await noisy.request('jobs/get')).accepted, true);
        assert.equal(answered.size, 100);
        assert.deepEqual([...answered].sort(), tokens.slice(0, 100).sort());
        assert.equal(noisy.client.connected, true, 'the noisy device stays connected');
      } finally {
        await noisy.close();
        await quiet.close();
      }
    });

    it('refuses a client id\'s CONNECTs beyond its burst without CONNACK until a second has passed', async () => {
      rateClock.advance(10_000);
      for (let i = 0; i < 5; i++) {
        const { connected, client } = await tryConnect(t.server.mqttUrl!, 'reconnector');
        assert.equal(connected, true, `connect ${i + 1} of the burst`);
        await client.endAsync();
      }
      const refused = await tryConnect(t.server.mqttUrl!, 'reconnector');
      assert.equal(refused.connected, false, 'the sixth CONNECT within a second is refused');
      // Another client id has its own allowance.
      const other = await tryConnect(t.server.mqttUrl!, 'other');
      assert.equal(other.connected, true);
      await other.client.endAsync();
      rateClock.advance(1000);
      const again = await tryConnect(t.server.mqttUrl!, 'reconnector');
      assert.equal(again.connected, true, 'one more a second later');
      await again.client.endAsync();
    });

    it('closes the first connection when a second CONNECTs with the same client id', async () => {
      rateClock.advance(10_000);
      const first = await TestDevice.connect(t.server.mqttUrl!, 'twin');
      const closed = new Promise<void>((resolve) => first.client.once('close', () => resolve()));
      const second = await TestDevice.connect(t.server.mqttUrl!, 'twin');
      try {
        await closed;
        assert.equal(first.client.connected, false);
        assert.equal((await second.request('jobs/get')).accepted, true, 'the newer connection serves the device');
      } finally {
        await first.close();
        await second.close();
      }
    });
  });
}
