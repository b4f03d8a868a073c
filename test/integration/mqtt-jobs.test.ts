import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { CancelJobExecutionCommand, CreateJobCommand, DescribeJobExecutionCommand } from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { seedThing, thingArn } from '../support/jobs.js';
import { TestDevice } from '../support/mqtt.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The device jobs API over MQTT (jobs.md §10) with mqtt.js (MQTT 3.1.1) against the embedded
 * broker, each step checked on the control plane too.
 */
for (const backend of await testBackends()) {
  describe(`jobs over MQTT (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const devices: TestDevice[] = [];
    before(async () => {
      t = await startTestServer(backend);
      assert.ok(t.server.mqttUrl, 'the MQTT door is on');
    });
    after(async () => {
      for (const d of devices) await d.close().catch(() => undefined);
      await t?.close();
    });

    async function device(thingName: string, subscribe = true): Promise<TestDevice> {
      await seedThing(t, thingName).catch(() => undefined);
      const d = await TestDevice.connect(t.server.mqttUrl!, thingName);
      devices.push(d);
      if (subscribe) assert.deepEqual(await d.subscribe('jobs/notify', 'jobs/notify-next'), [1, 1]);
      return d;
    }
    const control = async (jobId: string, thingName: string) => (await t.iot.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution!;
    const notified = async () => t.server.mqttNotifications!.idle();

    it('notifies a device, which starts, reports progress and succeeds', async () => {
      const d = await device('mq-1');
      await t.iot.send(new CreateJobCommand({ jobId: 'mq-job', targets: [thingArn('mq-1')], document: '{"step":"install"}' }));
      const next = await d.next((m) => m.topic.endsWith('/jobs/notify-next'));
      const execution = next.json!.execution as Record<string, unknown>;
      // aws-iot-device-client needs these fields; the document is an object, timestamps whole seconds.
      assert.equal(execution.jobId, 'mq-job');
      assert.deepEqual(execution.jobDocument, { step: 'install' });
      assert.equal(execution.status, 'QUEUED');
      assert.equal(execution.versionNumber, 1);
      assert.equal(execution.executionNumber, 1);
      assert.equal(execution.thingName, undefined, 'notify-next carries no thingName');
      assert.ok(Number.isInteger(execution.queuedAt) && Number.isInteger(next.json!.timestamp));
      const notify = await d.next((m) => m.topic.endsWith('/jobs/notify'));
      assert.deepEqual(Object.keys(notify.json!.jobs as object), ['QUEUED']);

      const started = await d.request('jobs/start-next', { statusDetails: { phase: 'download' }, stepTimeoutInMinutes: 5 });
      assert.ok(started.accepted, JSON.stringify(started.body));
      const ex = started.body.execution as Record<string, unknown>;
      assert.equal(ex.status, 'IN_PROGRESS');
      assert.equal(ex.thingName, 'mq-1');
      assert.deepEqual(ex.statusDetails, { phase: 'download' });
      assert.equal(ex.approximateSecondsBeforeTimedOut, 300);
      assert.equal((await control('mq-job', 'mq-1')).status, 'IN_PROGRESS');

      const progress = await d.request('jobs/mq-job/update', { status: 'IN_PROGRESS', statusDetails: { phase: 'install', percent: '50' }, expectedVersion: 2, includeJobExecutionState: true });
      assert.ok(progress.accepted, JSON.stringify(progress.body));
      assert.deepEqual(progress.body.executionState, { status: 'IN_PROGRESS', statusDetails: { phase: 'install', percent: '50' }, versionNumber: 3 });
      // Without the include flags the reply is only clientToken and timestamp.
      const done = await d.request('jobs/mq-job/update', { status: 'SUCCEEDED', expectedVersion: '3' });
      assert.ok(done.accepted, JSON.stringify(done.body));
      assert.deepEqual(Object.keys(done.body).sort(), ['clientToken', 'timestamp']);
      assert.equal((await control('mq-job', 'mq-1')).status, 'SUCCEEDED');
      // After the terminal update: notify with an empty list, then a bare notify-next.
      assert.deepEqual((await d.next((m) => m.topic.endsWith('/jobs/notify'))).json!.jobs, {});
      assert.deepEqual(Object.keys((await d.next((m) => m.topic.endsWith('/jobs/notify-next'))).json!), ['timestamp']);
    });

    it('keeps a second job waiting behind the first, and offers it next', async () => {
      const d = await device('mq-2');
      await t.iot.send(new CreateJobCommand({ jobId: 'first', targets: [thingArn('mq-2')], document: '{"n":1}' }));
      await d.next((m) => m.topic.endsWith('/jobs/notify-next'));
      await notified();
      d.received.length = 0;
      await t.iot.send(new CreateJobCommand({ jobId: 'second', targets: [thingArn('mq-2')], document: '{"n":2}' }));
      const notify = await d.next((m) => m.topic.endsWith('/jobs/notify'));
      assert.deepEqual((notify.json!.jobs as { QUEUED: { jobId: string }[] }).QUEUED.map((j) => j.jobId), ['first', 'second']);
      await notified();
      assert.equal(d.received.filter((m) => m.topic.endsWith('/notify-next')).length, 0, 'a job behind another is notify only');
      const pending = await d.request('jobs/get');
      assert.deepEqual((pending.body.queuedJobs as { jobId: string }[]).map((j) => j.jobId), ['first', 'second']);
      assert.ok(Number.isInteger((pending.body.queuedJobs as { queuedAt: unknown }[])[0].queuedAt));

      await d.request('jobs/first/update', { status: 'SUCCEEDED' });
      const next = await d.next((m) => m.topic.endsWith('/jobs/notify-next'));
      assert.equal((next.json!.execution as { jobId: string }).jobId, 'second');
      const peek = await d.request('jobs/$next/get');
      assert.equal((peek.body.execution as { jobId: string }).jobId, 'second');
      assert.deepEqual((peek.body.execution as { jobDocument: unknown }).jobDocument, { n: 2 });
    });

    it('answers a device\'s requests in the order it sent them, even within one packet burst', async () => {
      const d = await device('mq-order');
      await t.iot.send(new CreateJobCommand({ jobId: 'order-1', targets: [thingArn('mq-order')], document: '{}' }));
      await t.iot.send(new CreateJobCommand({ jobId: 'order-2', targets: [thingArn('mq-order')], document: '{}' }));
      assert.ok((await d.request('jobs/start-next')).accepted);
      // Both in one TCP write: aedes reads them in one chunk and dispatches them together.
      const done = d.next((m) => m.topic === d.topic('jobs/order-1/update/accepted'));
      const next = d.next((m) => m.topic === d.topic('jobs/start-next/accepted'));
      const publish = (topic: string, payload: string) => mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, dup: false, retain: false });
      d.client.stream.write(Buffer.concat([publish(d.topic('jobs/order-1/update'), JSON.stringify({ status: 'SUCCEEDED' })), publish(d.topic('jobs/start-next'), '{}')]));
      await done;
      assert.equal(((await next).json!.execution as { jobId: string }).jobId, 'order-2', 'start-next saw the update before it');
      assert.equal((await control('order-1', 'mq-order')).status, 'SUCCEEDED');
    });

    it('lets a device reject a job, and refuses a version mismatch and updates after a cancel', async () => {
      const d = await device('mq-3');
      await t.iot.send(new CreateJobCommand({ jobId: 'rej', targets: [thingArn('mq-3')], document: '{}' }));
      const rejected = await d.request('jobs/rej/update', { status: 'REJECTED', statusDetails: { why: 'incompatible' } });
      assert.ok(rejected.accepted);
      assert.equal((await control('rej', 'mq-3')).status, 'REJECTED');

      await t.iot.send(new CreateJobCommand({ jobId: 'ver', targets: [thingArn('mq-3')], document: '{}' }));
      const mismatch = await d.request('jobs/ver/update', { status: 'IN_PROGRESS', expectedVersion: 7 });
      assert.equal(mismatch.accepted, false);
      assert.equal(mismatch.body.code, 'VersionMismatch');
      assert.equal(mismatch.body.message, 'Expected version 7 but found version 1');
      assert.deepEqual(mismatch.body.executionState, { status: 'QUEUED', versionNumber: 1 });
      assert.equal((await control('ver', 'mq-3')).versionNumber, 1, 'a refused request changes nothing');

      await t.iot.send(new CancelJobExecutionCommand({ jobId: 'ver', thingName: 'mq-3' }));
      const late = await d.request('jobs/ver/update', { status: 'SUCCEEDED' });
      assert.equal(late.body.code, 'TerminalStateReached');
      const described = await d.request('jobs/ver/get');
      assert.equal(described.body.code, 'TerminalStateReached');
      const missing = await d.request('jobs/no-such-job/get');
      assert.equal(missing.body.code, 'ResourceNotFound');
      const illegal = await d.request('jobs/rej/update', { status: 'IN_PROGRESS' });
      assert.equal(illegal.body.code, 'TerminalStateReached');
    });

    it('gives a device that was offline its pending job when it reconnects', async () => {
      await seedThing(t, 'mq-4');
      await t.iot.send(new CreateJobCommand({ jobId: 'offline', targets: [thingArn('mq-4')], document: '{"op":"catch-up"}' }));
      const d = await device('mq-4');
      const pending = await d.request('jobs/get');
      assert.deepEqual((pending.body.queuedJobs as { jobId: string }[]).map((j) => j.jobId), ['offline']);
      const start = await d.request('jobs/start-next');
      assert.deepEqual((start.body.execution as { jobDocument: unknown }).jobDocument, { op: 'catch-up' });
      // Nothing pending: start-next is accepted without an execution.
      await d.request('jobs/offline/update', { status: 'SUCCEEDED' });
      const none = await d.request('jobs/start-next');
      assert.ok(none.accepted);
      assert.equal(none.body.execution, undefined);
    });

    it('answers a request to a device that subscribed to no reply topic', async () => {
      const d = await device('mq-5', false);
      const answer = await d.request('jobs/get');
      assert.ok(answer.accepted);
      assert.deepEqual(answer.body.queuedJobs, []);
    });

    it('refuses another thing\'s topics, and an unregistered client id at CONNECT', async () => {
      const intruder = await device('mq-6', false);
      await device('mq-7');
      // A foreign subscription: SUBACK 0x80, and the client stays connected.
      assert.deepEqual(await intruder.subscribe('$aws/things/mq-7/jobs/notify-next', '$aws/things/+/jobs/notify', '#'), [128, 128, 128]);
      assert.ok((await intruder.request('jobs/get')).accepted, 'still connected');
      await t.iot.send(new CreateJobCommand({ jobId: 'private', targets: [thingArn('mq-7')], document: '{}' }));
      await notified();
      assert.equal(intruder.received.length, 0, 'nothing of another thing\'s is delivered');
      // A foreign publish closes the connection.
      const closed = new Promise<void>((resolve) => intruder.client.once('close', () => resolve()));
      intruder.client.publish('$aws/things/mq-7/jobs/private/update', JSON.stringify({ status: 'FAILED' }), { qos: 1 });
      await closed;
      assert.equal((await control('private', 'mq-7')).status, 'QUEUED');
      // A client id that names no registered thing is refused (CONNACK 5).
      await assert.rejects(mqtt.connectAsync(t.server.mqttUrl!, { clientId: 'no-such-thing', reconnectPeriod: 0 }), /Not authorized/);
    });

    it('rejects malformed requests with their own replies, and other devices go on', async () => {
      const d = await device('mq-8', false);
      const bystander = await device('mq-9');
      await t.iot.send(new CreateJobCommand({ jobId: 'bad', targets: [thingArn('mq-8'), thingArn('mq-9')], document: '{}' }));
      const notJson = await d.raw('jobs/get', 'not json');
      assert.equal(notJson.json!.code, 'InvalidJson');
      assert.equal((await d.raw('jobs/get', '[1,2]')).json!.code, 'InvalidJson');
      const wrongType = await d.request('jobs/bad/update', { status: 42 });
      assert.equal(wrongType.body.code, 'InvalidRequest');
      assert.equal((await d.request('jobs/bad/update', { status: 'SUCCEEDED', statusDetails: { 'bad key!': 'x' } })).body.code, 'InvalidRequest');
      assert.equal((await d.request('jobs/bad/update', { status: 'SUCCEEDED', expectedVersion: 'one' })).body.code, 'InvalidRequest');
      const huge = await d.raw('jobs/get', JSON.stringify({ clientToken: 'x', pad: 'y'.repeat(200 * 1024) }));
      assert.equal(huge.json!.code, 'InvalidRequest');
      const unknown = await d.raw('jobs/bad/frobnicate', '{}');
      assert.equal(unknown.json!.code, 'InvalidTopic');
      assert.equal((await control('bad', 'mq-8')).status, 'QUEUED', 'nothing changed');
      // The broker and the other device are unaffected.
      assert.ok((await bystander.request('jobs/bad/update', { status: 'SUCCEEDED' })).accepted);
      assert.ok((await d.request('jobs/get')).accepted);
    });

    it('notifies namespaced jobs on notify-next-namespace topics', async () => {
      const d = await device('mq-10');
      await d.subscribe('jobs/notify-next-namespace-aws-gg-deployment');
      await t.iot.send(new CreateJobCommand({ jobId: 'gg', targets: [thingArn('mq-10')], document: '{}', namespaceId: 'aws-gg-deployment' }));
      const next = await d.next((m) => m.topic.endsWith('/jobs/notify-next-namespace-aws-gg-deployment'));
      assert.equal((next.json!.execution as { jobId: string }).jobId, 'gg');
      const described = await d.request('jobs/gg/namespace-aws-gg-deployment/get');
      assert.equal((described.body.execution as { jobId: string }).jobId, 'gg');
      await notified();
      assert.equal(d.received.filter((m) => m.topic.endsWith('/jobs/notify-next')).length, 0, 'not on the plain topic');
    });
  });
}
