import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { CreateJobCommand, DescribeJobExecutionCommand } from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { seedThing, thingArn } from '../support/jobs.js';
import { mosquittoSkip, PrivateMosquitto } from '../support/mosquitto.js';
import { TestDevice } from '../support/mqtt.js';
import { fleetjobsCommand, REPO } from '../support/serve-process.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * External-broker mode behind a Mosquitto that authenticates every client and runs the ACL
 * `fleetjobs mosquitto-acl` prints: each device reaches only its own topics, fleetjobs (its
 * backend user) all of them. Until device certificates exist, this is a device's identity on an
 * external broker.
 */
const skip = await mosquittoSkip();

for (const backend of await testBackends()) {
  describe(`Mosquitto with the fleetjobs ACL (${backend.name})`, { skip: backend.skip ?? skip }, () => {
    let broker: PrivateMosquitto;
    let t: TestServer;
    const devices: TestDevice[] = [];
    before(async () => {
      const acl = execFileSync(process.execPath, [...fleetjobsCommand(), 'mosquitto-acl', '--backend-user', 'fj-backend'], { cwd: REPO, encoding: 'utf8' });
      broker = await PrivateMosquitto.start({ acl, users: { 'fj-backend': 'backend-secret', 'acl-a': 'pa', 'acl-b': 'pb' } });
      t = await startTestServer(backend, {}, { FLEETJOBS_MQTT_URL: broker.url, FLEETJOBS_MQTT_USERNAME: 'fj-backend', FLEETJOBS_MQTT_PASSWORD: 'backend-secret' });
      await seedThing(t, 'acl-a');
      await seedThing(t, 'acl-b');
    });
    after(async () => {
      for (const d of devices) await d.close().catch(() => undefined);
      await t?.close();
      await broker?.stop();
    });
    const connect = async (thing: string, password: string, protocolVersion: 4 | 5) => {
      const d = await TestDevice.connect(broker.url, thing, { username: thing, password, protocolVersion });
      devices.push(d);
      return d;
    };
    const status = async (jobId: string, thingName: string) => (await t.iot.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution!.status;

    it('keeps each device to its own topics, and serves each through the backend user', async () => {
      const a = await connect('acl-a', 'pa', 4);
      const b = await connect('acl-b', 'pb', 5);
      await a.subscribe('jobs/#', '$aws/things/acl-b/jobs/#');
      await b.subscribe('jobs/#');
      await t.iot.send(new CreateJobCommand({ jobId: 'acl-job-b', targets: [thingArn('acl-b')], document: '{}' }));
      await b.next((m) => m.topic === b.topic('jobs/notify-next'));

      // A 3.1.1 device publishing under another thing is acknowledged and dropped by Mosquitto.
      await a.client.publishAsync('$aws/things/acl-b/jobs/acl-job-b/update', JSON.stringify({ status: 'SUCCEEDED' }), { qos: 1 });
      // An MQTT 5 device is told: PUBACK 0x87, not authorized.
      await assert.rejects(b.client.publishAsync('$aws/things/acl-a/jobs/get', '{}', { qos: 1 }), /[Nn]ot authori[sz]ed/);

      // Each is still served on its own topics, and what the other did never reached fleetjobs.
      assert.ok((await a.request('jobs/get')).accepted);
      assert.ok((await b.request('jobs/get')).accepted);
      assert.equal(await status('acl-job-b', 'acl-b'), 'QUEUED');
      await t.iot.send(new CreateJobCommand({ jobId: 'acl-job-a', targets: [thingArn('acl-a')], document: '{}' }));
      await a.next((m) => m.topic === a.topic('jobs/notify-next'));
      assert.deepEqual(a.received.filter((m) => m.topic.includes('/acl-b/')), [], 'nothing of acl-b\'s is delivered to acl-a');
    });

    it('refuses devices without credentials, and a backend with the wrong password fails its start', async () => {
      await assert.rejects(mqtt.connectAsync(broker.url, { clientId: 'acl-a', reconnectPeriod: 0 }, false), /Not authorized|Bad username or password/);
      await assert.rejects(
        startTestServer(backend, {}, { FLEETJOBS_MQTT_URL: broker.url, FLEETJOBS_MQTT_USERNAME: 'fj-backend', FLEETJOBS_MQTT_PASSWORD: 'wrong' }),
        /cannot connect to the MQTT broker at mqtt:\/\/127\.0\.0\.1:\d+: .*(Not authorized|Bad username or password)/,
      );
    });
  });
}
