import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { CreateJobCommand } from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { seedThing, thingArn } from '../support/jobs.js';
import { restartTestServer } from '../support/restart.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Sessions on the embedded broker (devices-and-engine.md §1): the Device SDK's keepalive of
 * 1200 s is accepted; a clean=false session keeps its subscriptions while the process runs; after
 * a restart the broker has forgotten it and says so (session_present=false), while jobs, which
 * live in the database, are still there for the device to ask for.
 */
for (const backend of await testBackends()) {
  describe(`MQTT sessions (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      await seedThing(t, 'sess-1');
    });
    after(async () => {
      await t?.close();
    });
    /** Connects as the Device SDK does (clean=false, keepalive 1200 s), with the CONNACK's session_present. */
    const connect = (url: string) =>
      new Promise<{ client: mqtt.MqttClient; sessionPresent: boolean }>((resolve, reject) => {
        const client = mqtt.connect(url, { clientId: 'sess-1', clean: false, keepalive: 1200, protocolVersion: 4, reconnectPeriod: 0 });
        client.once('connect', (connack) => resolve({ client, sessionPresent: connack.sessionPresent }));
        client.once('error', reject);
      });

    it('keeps a clean=false session while running, and forgets it across a restart', async () => {
      const { client: first, sessionPresent: fresh } = await connect(t.server.mqttUrl!);
      assert.equal(fresh, false);
      await first.subscribeAsync('$aws/things/sess-1/jobs/notify-next', { qos: 1 });
      await first.endAsync();

      const { client: again, sessionPresent: kept } = await connect(t.server.mqttUrl!);
      assert.equal(kept, true, 'the session survives a reconnect');
      // The kept subscription delivers without subscribing again.
      const message = new Promise<string>((resolve) => again.once('message', (topic) => resolve(topic)));
      await t.iot.send(new CreateJobCommand({ jobId: 'sess-job', targets: [thingArn('sess-1')], document: '{}' }));
      assert.equal(await message, '$aws/things/sess-1/jobs/notify-next');
      await again.endAsync();

      t = await restartTestServer(t, backend);
      const { client: afterRestart, sessionPresent: forgotten } = await connect(t.server.mqttUrl!);
      assert.equal(forgotten, false, 'a restarted broker tells the device its session is gone');
      const reply = new Promise<Record<string, unknown>>((resolve) =>
        afterRestart.on('message', (topic, payload) => {
          if (topic.endsWith('/jobs/get/accepted')) resolve(JSON.parse(payload.toString()) as Record<string, unknown>);
        }),
      );
      await afterRestart.publishAsync('$aws/things/sess-1/jobs/get', '{}');
      assert.deepEqual(((await reply).queuedJobs as { jobId: string }[]).map((j) => j.jobId), ['sess-job']);
      await afterRestart.endAsync();
    });
  });
}
