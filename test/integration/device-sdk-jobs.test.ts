import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CancelJobExecutionCommand,
  CreateJobCommand,
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DescribeJobExecutionCommand,
  UpdatePackageConfigurationCommand,
  UpdatePackageVersionCommand,
} from '@aws-sdk/client-iot';
import { mqtt } from 'aws-crt';
import { iotjobs, iotshadow } from 'aws-iot-device-sdk-v2';
import { testBackends } from '../support/backends.js';
import { connectSdkDevice, EventQueue, rejection, releaseSdkObjects, type SdkDevice } from '../support/device-sdk.js';
import { packageVersionArn, seedThing, thingArn } from '../support/jobs.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The AWS IoT Device SDK v2 against the embedded broker: its IotJobsClientv2 (request/response
 * over MQTT 3.1.1, replies matched by clientToken) and its shadow client for `$package`, each step
 * checked on the control plane.
 */
for (const backend of await testBackends()) {
  describe(`AWS IoT Device SDK v2 jobs and shadows (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const devices: SdkDevice[] = [];
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => {
      for (const d of devices.splice(0)) await d.close().catch(() => undefined);
      await t?.close();
      await releaseSdkObjects();
    });

    async function device(thingName: string): Promise<SdkDevice> {
      await seedThing(t, thingName).catch(() => undefined);
      const d = await connectSdkDevice(t.server.mqttUrl!, thingName);
      devices.push(d);
      return d;
    }
    const control = async (jobId: string, thingName: string) => (await t.iot.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution!;

    it('is notified, starts, reports progress with statusDetails and succeeds; a second job waits', async () => {
      const d = await device('sdk-1');
      assert.equal(d.sessionPresent, false, 'a new session');
      const next = await EventQueue.open<iotjobs.model.NextJobExecutionChangedEvent>((h) => d.jobsEvents.subscribeToNextJobExecutionChangedEvents({ thingName: 'sdk-1' }, mqtt.QoS.AtLeastOnce, h));
      await t.iot.send(new CreateJobCommand({ jobId: 'sdk-a', targets: [thingArn('sdk-1')], document: '{"url":"https://example.com/a.bin"}' }));
      const offered = await next.next();
      assert.equal(offered.execution?.jobId, 'sdk-a');
      assert.deepEqual(offered.execution?.jobDocument, { url: 'https://example.com/a.bin' });
      assert.ok(Number.isInteger(offered.timestamp), 'timestamps in epoch seconds');
      await t.iot.send(new CreateJobCommand({ jobId: 'sdk-b', targets: [thingArn('sdk-1')], document: '{}' }));

      const pending = await d.jobs.getPendingJobExecutions({ thingName: 'sdk-1' });
      assert.deepEqual(pending.queuedJobs?.map((j) => j.jobId), ['sdk-a', 'sdk-b']);
      const started = await d.jobs.startNextPendingJobExecution({ thingName: 'sdk-1', stepTimeoutInMinutes: 10 });
      assert.equal(started.execution?.jobId, 'sdk-a');
      assert.equal(started.execution?.status, iotjobs.model.JobStatus.IN_PROGRESS);
      const progress = await d.jobs.updateJobExecution({ thingName: 'sdk-1', jobId: 'sdk-a', status: iotjobs.model.JobStatus.IN_PROGRESS, statusDetails: { progress: '40%' }, expectedVersion: 2, includeJobExecutionState: true });
      assert.equal(progress.executionState?.versionNumber, 3);
      assert.deepEqual((await control('sdk-a', 'sdk-1')).statusDetails?.detailsMap, { progress: '40%' });

      const described = await d.jobs.describeJobExecution({ thingName: 'sdk-1', jobId: 'sdk-a', includeJobDocument: true });
      assert.deepEqual(described.execution?.statusDetails, { progress: '40%' });
      assert.deepEqual(described.execution?.jobDocument, { url: 'https://example.com/a.bin' });

      await d.jobs.updateJobExecution({ thingName: 'sdk-1', jobId: 'sdk-a', status: iotjobs.model.JobStatus.SUCCEEDED, statusDetails: { progress: '100%' } });
      assert.equal((await control('sdk-a', 'sdk-1')).status, 'SUCCEEDED');
      // The waiting job is offered next once the first is done.
      let after = await next.next();
      while (after.execution?.jobId !== 'sdk-b') after = await next.next();
      assert.equal(after.execution.status, iotjobs.model.JobStatus.QUEUED);
    });

    it('rejects a job, and gets VersionMismatch and TerminalStateReached', async () => {
      const d = await device('sdk-2');
      await t.iot.send(new CreateJobCommand({ jobId: 'sdk-r', targets: [thingArn('sdk-2')], document: '{}' }));
      await d.jobs.updateJobExecution({ thingName: 'sdk-2', jobId: 'sdk-r', status: iotjobs.model.JobStatus.REJECTED, statusDetails: { reason: 'disk full' } });
      assert.equal((await control('sdk-r', 'sdk-2')).status, 'REJECTED');

      await t.iot.send(new CreateJobCommand({ jobId: 'sdk-v', targets: [thingArn('sdk-2')], document: '{}' }));
      await d.jobs.startNextPendingJobExecution({ thingName: 'sdk-2' });
      const mismatch = await rejection(d.jobs.updateJobExecution({ thingName: 'sdk-2', jobId: 'sdk-v', status: iotjobs.model.JobStatus.IN_PROGRESS, expectedVersion: 7 }));
      assert.equal(mismatch.code, iotjobs.model.RejectedErrorCode.VERSION_MISMATCH);
      assert.equal(mismatch.executionState?.versionNumber, 2);
      assert.equal(mismatch.executionState?.status, 'IN_PROGRESS');

      await t.iot.send(new CancelJobExecutionCommand({ jobId: 'sdk-v', thingName: 'sdk-2', force: true }));
      const terminal = await rejection(d.jobs.updateJobExecution({ thingName: 'sdk-2', jobId: 'sdk-v', status: iotjobs.model.JobStatus.SUCCEEDED }));
      assert.equal(terminal.code, iotjobs.model.RejectedErrorCode.TERMINAL_STATE_REACHED);
      assert.equal((await control('sdk-v', 'sdk-2')).status, 'CANCELED');
    });

    it('gets its pending job after being offline: its clean=false session kept what was published meanwhile', async () => {
      const d = await device('sdk-3');
      await d.jobsEvents.subscribeToNextJobExecutionChangedEvents({ thingName: 'sdk-3' }, mqtt.QoS.AtLeastOnce, () => undefined);
      await d.close();
      devices.splice(devices.indexOf(d), 1);
      await t.iot.send(new CreateJobCommand({ jobId: 'sdk-offline', targets: [thingArn('sdk-3')], document: '{}' }));
      await t.server.mqttNotifications!.idle();
      // Reconnecting, the device is told its session is there and gets the notification it missed.
      let resolveMissed!: (e: iotjobs.model.NextJobExecutionChangedEvent) => void;
      const missed = new Promise<iotjobs.model.NextJobExecutionChangedEvent>((resolve) => (resolveMissed = resolve));
      const back = await connectSdkDevice(t.server.mqttUrl!, 'sdk-3', {
        onMessage: (topic, payload) => {
          if (topic.endsWith('/jobs/notify-next')) resolveMissed(JSON.parse(Buffer.from(payload).toString('utf8')) as iotjobs.model.NextJobExecutionChangedEvent);
        },
      });
      devices.push(back);
      assert.equal(back.sessionPresent, true, 'a clean=false session is kept while the server runs');
      assert.equal((await missed).execution?.jobId, 'sdk-offline');
      const pending = await back.jobs.getPendingJobExecutions({ thingName: 'sdk-3' });
      assert.deepEqual(pending.queuedJobs?.map((j) => j.jobId), ['sdk-offline']);
    });

    it('writes $package on success, and the shadow client reads it and sees it change', async () => {
      const d = await device('sdk-4');
      await t.iot.send(new CreatePackageCommand({ packageName: 'fw' }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'fw', versionName: '3.0.0' }));
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'fw', versionName: '3.0.0', action: 'PUBLISH' }));
      await t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: true, roleArn: 'arn:aws:iam::123456789012:role/pkg' } }));
      const updates = await EventQueue.open<iotshadow.model.ShadowUpdatedEvent>((h) => d.shadowEvents.subscribeToNamedShadowUpdatedEvents({ thingName: 'sdk-4', shadowName: '$package' }, mqtt.QoS.AtLeastOnce, h));
      await t.iot.send(new CreateJobCommand({ jobId: 'sdk-pkg', targets: [thingArn('sdk-4')], document: '{}', destinationPackageVersions: [packageVersionArn('fw', '3.0.0')] }));
      await d.jobs.startNextPendingJobExecution({ thingName: 'sdk-4' });
      await d.jobs.updateJobExecution({ thingName: 'sdk-4', jobId: 'sdk-pkg', status: iotjobs.model.JobStatus.SUCCEEDED });
      const updated = await updates.next();
      assert.deepEqual(updated.current?.state?.reported, { fw: { version: '3.0.0' } });
      const got = await d.shadow.getNamedShadow({ thingName: 'sdk-4', shadowName: '$package' });
      assert.deepEqual(got.state?.reported, { fw: { version: '3.0.0' } });

      const missing = await rejection(d.shadow.getNamedShadow({ thingName: 'sdk-4', shadowName: 'absent' }));
      assert.equal((missing as { code?: unknown }).code, 404);
      const own = await d.shadow.updateNamedShadow({ thingName: 'sdk-4', shadowName: 'config', state: { reported: { mode: 'eco' } } });
      assert.equal(own.version, 1);
    });
  });
}
