import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CancelJobExecutionCommand, CreateJobCommand, DescribeJobExecutionCommand } from '@aws-sdk/client-iot';
import { iotjobs } from 'aws-iot-device-sdk-v2';
import { testBackends } from '../support/backends.js';
import { connectSdkDevice, releaseSdkObjects, type SdkDevice } from '../support/device-sdk.js';
import { seedThing, thingArn } from '../support/jobs.js';
import { mosquittoSkip, PrivateMosquitto } from '../support/mosquitto.js';
import { TestDevice } from '../support/mqtt.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * External-broker mode against the real Mosquitto (devices-and-engine.md §3): fleetjobs is one
 * backend client of the broker and serves the same topics through it, to MQTT 3.1.1 and MQTT 5
 * devices and the Device SDK, each step checked on the control plane. Each suite has a Mosquitto
 * of its own, so no other backend answers its devices.
 */
const skipMosquitto = await mosquittoSkip();
const run = randomUUID().slice(0, 8);

for (const backend of await testBackends()) {
  describe(`jobs through Mosquitto (${backend.name})`, { skip: backend.skip ?? skipMosquitto }, () => {
    let t: TestServer;
    let broker: PrivateMosquitto;
    const devices: TestDevice[] = [];
    const sdkDevices: SdkDevice[] = [];
    const name = (n: string) => `ext-${run}-${backend.name}-${n}`;
    before(async () => {
      broker = await PrivateMosquitto.start();
      t = await startTestServer(backend, {}, { FLEETJOBS_MQTT_URL: broker.url });
      assert.equal(t.server.mqttBroker?.shared, false, 'Mosquitto does not deliver $share on $aws topics');
      assert.equal(t.server.mqttBroker?.serving, true, 'a lone node takes the lease at start');
    });
    after(async () => {
      for (const d of devices) await d.close().catch(() => undefined);
      for (const d of sdkDevices.splice(0)) await d.close().catch(() => undefined);
      await t?.close();
      await broker?.stop();
      await releaseSdkObjects();
    });

    /** A device on Mosquitto; on an external broker replies reach only subscribers, so it subscribes to its jobs topics. */
    async function device(n: string, protocolVersion: 4 | 5 = 4): Promise<TestDevice> {
      await seedThing(t, name(n));
      const d = await TestDevice.connect(broker.url, name(n), { protocolVersion, clean: true });
      devices.push(d);
      await d.subscribe('jobs/#');
      return d;
    }
    const control = async (jobId: string, n: string) => (await t.iot.send(new DescribeJobExecutionCommand({ jobId, thingName: name(n) }))).execution!;

    it('notifies an MQTT 3.1.1 device, which starts, reports progress and succeeds', async () => {
      const d = await device('a');
      await t.iot.send(new CreateJobCommand({ jobId: `${name('a')}-job`, targets: [thingArn(name('a'))], document: '{"step":1}' }));
      const next = await d.next((m) => m.topic === d.topic('jobs/notify-next'));
      assert.equal((next.json!.execution as { jobId: string }).jobId, `${name('a')}-job`);
      assert.deepEqual((next.json!.execution as { jobDocument: unknown }).jobDocument, { step: 1 });
      const started = await d.request('jobs/start-next', { statusDetails: { phase: 'download' } });
      assert.ok(started.accepted, JSON.stringify(started.body));
      assert.equal((await control(`${name('a')}-job`, 'a')).status, 'IN_PROGRESS');
      const progress = await d.request(`jobs/${name('a')}-job/update`, { status: 'IN_PROGRESS', statusDetails: { phase: 'install' }, expectedVersion: 2 });
      assert.ok(progress.accepted, JSON.stringify(progress.body));
      assert.deepEqual((await control(`${name('a')}-job`, 'a')).statusDetails?.detailsMap, { phase: 'install' });
      assert.ok((await d.request(`jobs/${name('a')}-job/update`, { status: 'SUCCEEDED' })).accepted);
      assert.equal((await control(`${name('a')}-job`, 'a')).status, 'SUCCEEDED');
    });

    it('serves an MQTT 5 device: a second job waits, a rejection, a version mismatch, TerminalStateReached', async () => {
      const d = await device('b', 5);
      const first = `${name('b')}-1`;
      const second = `${name('b')}-2`;
      await t.iot.send(new CreateJobCommand({ jobId: first, targets: [thingArn(name('b'))], document: '{}' }));
      await t.iot.send(new CreateJobCommand({ jobId: second, targets: [thingArn(name('b'))], document: '{}' }));
      const pending = await d.request('jobs/get');
      assert.deepEqual((pending.body.queuedJobs as { jobId: string }[]).map((j) => j.jobId), [first, second]);
      assert.ok((await d.request(`jobs/${first}/update`, { status: 'REJECTED' })).accepted);
      assert.equal((await control(first, 'b')).status, 'REJECTED');

      const started = await d.request('jobs/start-next');
      assert.equal((started.body.execution as { jobId: string }).jobId, second, 'the waiting job comes next');
      const mismatch = await d.request(`jobs/${second}/update`, { status: 'IN_PROGRESS', expectedVersion: 9 });
      assert.equal(mismatch.body.code, 'VersionMismatch');
      assert.equal((mismatch.body.executionState as { versionNumber: number }).versionNumber, 2);
      await t.iot.send(new CancelJobExecutionCommand({ jobId: second, thingName: name('b'), force: true }));
      const terminal = await d.request(`jobs/${second}/update`, { status: 'SUCCEEDED' });
      assert.equal(terminal.body.code, 'TerminalStateReached');
      assert.equal((await control(second, 'b')).status, 'CANCELED');
    });

    it('serves the Device SDK v2 through Mosquitto, and a device that was offline gets its job', async () => {
      await seedThing(t, name('sdk'));
      const jobId = `${name('sdk')}-job`;
      await t.iot.send(new CreateJobCommand({ jobId, targets: [thingArn(name('sdk'))], document: '{"v":2}' }));
      // The device was offline when the job was created: it asks when it connects.
      const d = await connectSdkDevice(broker.url, name('sdk'), { cleanSession: true });
      sdkDevices.push(d);
      const pending = await d.jobs.getPendingJobExecutions({ thingName: name('sdk') });
      assert.deepEqual(pending.queuedJobs?.map((j) => j.jobId), [jobId]);
      const started = await d.jobs.startNextPendingJobExecution({ thingName: name('sdk') });
      assert.deepEqual(started.execution?.jobDocument, { v: 2 });
      await d.jobs.updateJobExecution({ thingName: name('sdk'), jobId, status: iotjobs.model.JobStatus.SUCCEEDED, statusDetails: { result: 'ok' } });
      const done = await control(jobId, 'sdk');
      assert.equal(done.status, 'SUCCEEDED');
      assert.deepEqual(done.statusDetails?.detailsMap, { result: 'ok' });
    });

    it('rejects malformed requests with their replies, answers each request once, and other devices go on', async () => {
      const d = await device('m');
      const other = await device('o');
      assert.equal((await d.raw('jobs/get', 'not json')).json!.code, 'InvalidJson');
      const wrongType = await d.request('jobs/start-next', { stepTimeoutInMinutes: 'soon' });
      assert.equal(wrongType.body.code, 'InvalidRequest');
      const oversized = await d.raw('jobs/get', JSON.stringify({ clientToken: 'x', pad: 'y'.repeat(200 * 1024) }));
      assert.equal(oversized.json!.code, 'InvalidRequest');
      const unknown = await d.raw('jobs/no/such/topic/here', '{}');
      assert.equal(unknown.json!.code, 'InvalidTopic');
      assert.ok((await other.request('jobs/get')).accepted, 'another device is served meanwhile');

      // Each request has exactly one reply: the backend never answers what it published itself.
      d.received.length = 0;
      await d.request('jobs/get');
      await d.request('jobs/start-next');
      // A third request: its reply comes after any second answer to the first two would have.
      await d.request('jobs/get');
      const replies = d.received.filter((m) => m.topic.endsWith('/accepted') || m.topic.endsWith('/rejected'));
      assert.deepEqual(replies, [], 'no reply came twice, and none answered a reply');
    });
  });
}
