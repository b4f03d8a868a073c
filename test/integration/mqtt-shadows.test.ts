import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateJobCommand, CreatePackageCommand, CreatePackageVersionCommand, UpdatePackageConfigurationCommand, UpdatePackageVersionCommand } from '@aws-sdk/client-iot';
import { UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { testBackends } from '../support/backends.js';
import { iotDataClient } from '../support/iot-data.js';
import { packageVersionArn, thingArn } from '../support/jobs.js';
import { SuiteDevices } from '../support/mqtt.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Device Shadow over MQTT (things-and-shadows.md §7): classic and named shadows, `$package`
 * included, with accepted / delta / documents published for every accepted change whichever door
 * it came through (MQTT, REST, a succeeded job).
 */
for (const backend of await testBackends()) {
  describe(`shadows over MQTT (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const devices = new SuiteDevices();
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => {
      await devices.closeAll();
      await t?.close();
    });
    const device = (thingName: string) => devices.connect(t, thingName);

    it('gets, updates and deletes the classic shadow, with delta and documents', async () => {
      const d = await device('sh-1');
      await d.subscribe('shadow/get/+', 'shadow/update/+', 'shadow/delete/+');
      const missing = await d.request('shadow/get');
      assert.equal(missing.accepted, false);
      assert.equal(missing.body.code, 404);
      assert.match(String(missing.body.message), /No shadow exists with name/);

      const updated = await d.request('shadow/update', { state: { desired: { color: 'red' }, reported: { color: 'blue' } } });
      assert.ok(updated.accepted, JSON.stringify(updated.body));
      assert.deepEqual((updated.body.state as object), { desired: { color: 'red' }, reported: { color: 'blue' } });
      assert.equal(updated.body.version, 1);
      const delta = await d.next((m) => m.topic === d.topic('shadow/update/delta'));
      assert.deepEqual(delta.json!.state, { color: 'red' });
      assert.equal(delta.json!.version, 1);
      const documents = await d.next((m) => m.topic === d.topic('shadow/update/documents'));
      assert.equal(documents.json!.previous, undefined, 'no previous when the update created the shadow');
      assert.equal((documents.json!.current as { version: number }).version, 1);

      const got = await d.request('shadow/get');
      assert.deepEqual((got.body.state as { delta: object }).delta, { color: 'red' });
      const conflict = await d.request('shadow/update', { state: { reported: { color: 'red' } }, version: 9 });
      assert.equal(conflict.body.code, 409);
      const deleted = await d.request('shadow/delete');
      assert.ok(deleted.accepted);
      assert.equal(deleted.body.version, 1);
      assert.equal((await d.raw('shadow/get', 'not json')).json!.code, 400);
    });

    it('serves named shadows, and publishes REST updates to the device', async () => {
      const d = await device('sh-2');
      await d.subscribe('shadow/name/config/update/+');
      const named = await d.request('shadow/name/config/update', { state: { reported: { mode: 'eco' } } });
      assert.ok(named.accepted);
      const data = iotDataClient(t);
      try {
        await data.send(new UpdateThingShadowCommand({ thingName: 'sh-2', shadowName: 'config', payload: Buffer.from(JSON.stringify({ state: { desired: { mode: 'turbo' } } })) }));
      } finally {
        data.destroy();
      }
      const accepted = await d.next((m) => m.topic === d.topic('shadow/name/config/update/accepted') && (m.json?.state as { desired?: unknown })?.desired !== undefined);
      assert.deepEqual((accepted.json!.state as { desired: object }).desired, { mode: 'turbo' });
      const delta = await d.next((m) => m.topic === d.topic('shadow/name/config/update/delta'));
      assert.deepEqual(delta.json!.state, { mode: 'turbo' });
    });

    it('publishes the $package shadow a succeeded job writes', async () => {
      const d = await device('sh-3');
      await d.subscribe('shadow/name/$package/update/+', 'jobs/notify-next', 'jobs/pkg-job/update/+', 'shadow/name/$package/get/+');
      await t.iot.send(new CreatePackageCommand({ packageName: 'agent' }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'agent', versionName: '2.1.0' }));
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'agent', versionName: '2.1.0', action: 'PUBLISH' }));
      await t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: true, roleArn: 'arn:aws:iam::123456789012:role/pkg' } }));
      await t.iot.send(new CreateJobCommand({ jobId: 'pkg-job', targets: [thingArn('sh-3')], document: '{}', destinationPackageVersions: [packageVersionArn('agent', '2.1.0')] }));
      await d.next((m) => m.topic.endsWith('/jobs/notify-next'));
      assert.ok((await d.request('jobs/pkg-job/update', { status: 'SUCCEEDED' })).accepted);
      const accepted = await d.next((m) => m.topic === d.topic('shadow/name/$package/update/accepted'));
      assert.deepEqual((accepted.json!.state as { reported: object }).reported, { agent: { version: '2.1.0' } });
      const got = await d.request('shadow/name/$package/get');
      assert.deepEqual((got.body.state as { reported: object }).reported, { agent: { version: '2.1.0' } });
    });
  });
}
